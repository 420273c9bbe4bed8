export {
  HttpAnswer,
  HttpErrorFilter,
  toBody,
  type ErrorBody,
  type ErrorResponse,
  type HttpAnswerOptions,
} from './errors';
export { declareHttpStatuses, type HttpStatusTable } from './http-statuses';
export { HEALTH_CHECKS, HealthController, Readiness, type HealthChecks } from './health';
export { MetricsController, ServiceMetrics } from './metrics';
export { DEFAULT_LIMIT, decodeCursor, encodeCursor, pageQuery, type Page } from './pagination';
export { correlationIdFrom, parseInput } from './input';
export { MAX_PARAM_LENGTH, edgeServerOptions } from './edge';
export {
  RELEASE,
  startServiceTracing,
  startTracing,
  startTracingFrom,
  tracingConfig,
  type TracingConfig,
} from './tracing';
export { PinoNestLogger, REDACTED_PATHS, createLogger, loggingConfig, withCorrelationId } from './logging';
export {
  TICKS_PER_SECOND,
  listenerPids,
  parseListeningInodes,
  parseMachineCpu,
  parseProcessStat,
  processExecutable,
  processIds,
  readMachineCpu,
  readProcessStat,
  type MachineCpu,
  type ProcessStat,
} from './procfs';
