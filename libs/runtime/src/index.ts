export { bootService, runMain, type RunningService, type ServiceDeps, type ServiceSpec } from './boot';
export { kafkaBrokers, parseConfig, postgresUrl } from './config';
