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
 * Whether a failure is worth retrying. Errors say so themselves (`retriable`, as in the resilience
 * library's error base); a failure that does not say is treated as retriable, except programmer errors
 * (TypeError, RangeError, SyntaxError), which would fail the same way every time.
 */
export function isRetriable(error: unknown): boolean {
  if (typeof error === 'object' && error !== null && 'retriable' in error) {
    return Boolean((error as { retriable: unknown }).retriable);
  }
  return !(error instanceof TypeError || error instanceof RangeError || error instanceof SyntaxError);
}
