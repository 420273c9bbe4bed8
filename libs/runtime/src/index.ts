export { bootService, runMain, type RunningService, type ServiceDeps, type ServiceSpec } from './boot';
export { parseConfig } from './config';
