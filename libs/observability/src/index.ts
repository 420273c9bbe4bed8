export { HEALTH_CHECKS, HealthController, Readiness, type HealthChecks } from './health';
