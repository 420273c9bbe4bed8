import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
  /** Said in the error when the condition never holds. */
  readonly what?: string;
}

/**
 * Polls `probe` until it returns a value other than undefined/false, and returns that value. Rejects
 * with the last error (or a timeout) once `timeoutMs` has passed. For eventually-consistent checks
 * (a health API catching up, a trace being indexed), never to time anything.
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  { timeoutMs = 10_000, intervalMs = 200, what = 'condition' }: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${reason}`, { cause: lastError });
    }
    await sleep(intervalMs);
  }
}
