export {
  bootService,
  runMain,
  type BackgroundWork,
  type RelayKnobs,
  type RunningService,
  type ServiceDeps,
  type ServiceSpec,
} from './boot';
export { kafkaBrokers, parseConfig, postgresUrl, relayConfig, relayKnobs, serviceLogger } from './config';
export { createHttpApp, serveHttp, type HttpService, type HttpSpec } from './http';
