/** Errors carry a machine code, whether trying again can help, and their cause (docs/architecture.md §3). */
export abstract class ResilienceError extends Error {
  abstract readonly code: string;
  abstract readonly retriable: boolean;
}

/** A dependency failed in a way that says nothing about the request: unreachable, too slow, or a 5xx. */
export class UpstreamFailure extends ResilienceError {
  readonly retriable = true;

  constructor(
    readonly dependency: string,
    readonly code: 'UPSTREAM_UNREACHABLE' | 'UPSTREAM_TIMEOUT' | 'UPSTREAM_ERROR',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'UpstreamFailure';
  }
}

/** The request's budget ran out before the dependency answered (or before another attempt could start). */
export class DeadlineExceeded extends ResilienceError {
  readonly code = 'DEADLINE_EXCEEDED';
  readonly retriable = false;

  constructor(
    readonly dependency: string,
    options?: { cause?: unknown },
  ) {
    super(`the request's deadline passed while calling ${dependency}`, options);
    this.name = 'DeadlineExceeded';
  }
}

/** The dependency's circuit is open: the call was not made. */
export class DependencyUnavailable extends ResilienceError {
  readonly code = 'DEPENDENCY_UNAVAILABLE';
  readonly retriable = true;

  constructor(
    readonly dependency: string,
    /** When the breaker lets a trial call through again. */
    readonly retryAfterMs: number,
    options?: { cause?: unknown },
  ) {
    super(`${dependency} is unavailable (circuit open)`, options);
    this.name = 'DependencyUnavailable';
  }
}
