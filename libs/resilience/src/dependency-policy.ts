import {
  BrokenCircuitError,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff,
  circuitBreaker,
  handleWhen,
  retry,
  wrap,
  type CircuitBreakerPolicy,
  type IPolicy,
} from 'cockatiel';
import type { Deadline } from './deadline';
import { DeadlineExceeded, DependencyUnavailable, UpstreamFailure } from './errors';

export interface DependencyPolicyOptions {
  /** Consecutive failures that open the circuit. */
  readonly failureThreshold: number;
  /** How long the circuit stays open before one trial call (half-open). */
  readonly halfOpenAfterMs: number;
  /** Attempts for idempotent calls, the first included. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** The cap of a single attempt; the request's deadline may cut it shorter. */
  readonly callTimeoutMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

const STATE_NAMES: Record<CircuitState, BreakerState> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

const isUpstreamFailure = (error: Error): boolean => error instanceof UpstreamFailure;

/**
 * How one dependency is called: a circuit breaker (cockatiel) that counts only the dependency's own
 * failures, and — for idempotent calls only — retries with exponential backoff and decorrelated jitter,
 * each attempt through the breaker and within the request's deadline. A non-idempotent call is tried
 * once: repeating it could apply it twice.
 */
export class DependencyPolicy {
  private readonly breaker: CircuitBreakerPolicy;
  private readonly retrying: IPolicy;
  private openedAt = 0;

  constructor(
    readonly name: string,
    readonly options: DependencyPolicyOptions,
    onStateChange: (state: BreakerState) => void = () => undefined,
  ) {
    this.breaker = circuitBreaker(handleWhen(isUpstreamFailure), {
      halfOpenAfter: options.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    });
    this.breaker.onStateChange((state) => {
      if (state === CircuitState.Open) this.openedAt = Date.now();
      onStateChange(STATE_NAMES[state]);
    });
    this.retrying = wrap(
      retry(handleWhen(isUpstreamFailure), {
        maxAttempts: options.maxAttempts - 1,
        backoff: new ExponentialBackoff({
          initialDelay: options.initialBackoffMs,
          maxDelay: options.maxBackoffMs,
        }),
      }),
      this.breaker,
    );
  }

  get state(): BreakerState {
    return STATE_NAMES[this.breaker.state];
  }

  /**
   * Runs `attempt` with the timeout it must respect. Throws UpstreamFailure (the last one) when the
   * dependency kept failing, DependencyUnavailable when the circuit is open, DeadlineExceeded when the
   * budget ran out first.
   */
  async call<T>(
    deadline: Deadline,
    idempotent: boolean,
    attempt: (timeoutMs: number) => Promise<T>,
  ): Promise<T> {
    let lastFailure: UpstreamFailure | undefined;
    const once = async (): Promise<T> => {
      const timeoutMs = deadline.callTimeoutMs(this.options.callTimeoutMs);
      if (timeoutMs <= 0) throw new DeadlineExceeded(this.name, { cause: lastFailure });
      try {
        return await attempt(timeoutMs);
      } catch (error) {
        if (error instanceof UpstreamFailure) lastFailure = error;
        throw error;
      }
    };
    try {
      return await (idempotent ? this.retrying : this.breaker).execute(once);
    } catch (error) {
      if (error instanceof BrokenCircuitError) {
        const retryAfterMs = Math.max(0, this.openedAt + this.options.halfOpenAfterMs - Date.now());
        throw new DependencyUnavailable(this.name, retryAfterMs, { cause: error });
      }
      throw error;
    }
  }
}
