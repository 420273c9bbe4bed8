import { isRetriable as isRetriableError } from '@saga-lab/errors';
import { KafkaJSError } from 'kafkajs';

/** Retry with exponential backoff and full jitter, for failures that may pass (a lock, a timeout). */
export interface RetryPolicy {
  /** Deliveries before a message goes to the DLQ, the first one included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000 };

/** Delay before delivery `attempt` (2 = first retry): uniform in [0, min(max, base·2^(attempt-2))]. */
export function retryDelayMs(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 2));
  return Math.floor(random() * ceiling);
}

/**
 * Whether a failed delivery goes to the retry topic: what `@saga-lab/errors` counts as passing (an
 * AppError marked retriable, PostgreSQL losing a race, a peer out of reach) — everything else, unknown
 * errors included, goes to the DLQ at once — and a kafkajs error that Kafka itself marks retriable (a
 * leader moving, a request timing out), recognised by its class since kafkajs does not use our error root.
 */
export function isRetriable(error: unknown): boolean {
  return error instanceof KafkaJSError ? error.retriable : isRetriableError(error);
}
