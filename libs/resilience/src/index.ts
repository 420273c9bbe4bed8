export { Deadline } from './deadline';
export { DependencyPolicy, type BreakerState, type DependencyPolicyOptions } from './dependency-policy';
export { DeadlineExceeded, DependencyUnavailable, ResilienceError, UpstreamFailure } from './errors';
