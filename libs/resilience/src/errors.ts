import { AppError } from '@saga-lab/errors';

/** The errors of calling a dependency; what they mean to a client is for the caller's edge to say. */
export abstract class ResilienceError<C extends string = string> extends AppError<C> {}

type UpstreamFailureCode =
  'UPSTREAM_UNREACHABLE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_ERROR' | 'UPSTREAM_CONTRACT';

/** A dependency failed in a way that says nothing about the request: unreachable, too slow, a 5xx, or an answer its contract does not allow. */
export class UpstreamFailure extends ResilienceError<UpstreamFailureCode> {
  constructor(
    readonly dependency: string,
    code: UpstreamFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, { ...options, retriable: true });
  }
}

/** The request's budget ran out before the dependency answered (or before another attempt could start). */
export class DeadlineExceeded extends ResilienceError<'DEADLINE_EXCEEDED'> {
  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super('DEADLINE_EXCEEDED', `the request's deadline passed while calling ${dependency}`, options);
  }
}

/** The dependency's circuit is open: the call was not made. */
export class DependencyUnavailable extends ResilienceError<'DEPENDENCY_UNAVAILABLE'> {
  constructor(
    readonly dependency: string,
    /** When the breaker lets a trial call through again. */
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super('DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable (circuit open)`, {
      ...options,
      retriable: true,
    });
  }
}
