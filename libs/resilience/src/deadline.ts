/**
 * A request's deadline budget: fixed when the request arrives, shared by every call made for it. Each call
 * gets its own cap, but never more than what is left, so retries and fan-out cannot outlive the caller.
 */
export class Deadline {
  private constructor(
    readonly expiresAt: number,
    private readonly now: () => number,
  ) {}

  static within(budgetMs: number, now: () => number = Date.now): Deadline {
    return new Deadline(now() + budgetMs, now);
  }

  remainingMs(): number {
    return Math.max(0, this.expiresAt - this.now());
  }

  expired(): boolean {
    return this.remainingMs() === 0;
  }

  /** The timeout for one call: its own cap, cut to the remaining budget. */
  callTimeoutMs(capMs: number): number {
    return Math.min(capMs, this.remainingMs());
  }
}
