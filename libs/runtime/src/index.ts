export {
  bootService,
  runMain,
  type BackgroundWork,
  type RelayKnobs,
  type RunningService,
  type ServiceDeps,
  type ServiceSpec,
} from './boot';
export {
  SAFEGUARDS,
  kafkaBrokers,
  labConfig,
  labSwitches,
  parseConfig,
  postgresUrl,
  relayConfig,
  relayKnobs,
  serviceLogger,
  type LabSwitches,
  type Safeguard,
} from './config';
export { createHttpApp, serveHttp, type HttpService, type HttpSpec } from './http';
