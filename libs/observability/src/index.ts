export { DomainError, HttpErrorFilter, toBody, type ErrorBody } from './errors';
export { HEALTH_CHECKS, HealthController, Readiness, type HealthChecks } from './health';
export { MetricsController, ServiceMetrics } from './metrics';
export { DEFAULT_LIMIT, decodeCursor, encodeCursor, pageQuery, type Page } from './pagination';
export { correlationIdFrom, parseInput } from './input';
export { MAX_PARAM_LENGTH, edgeServerOptions } from './edge';
