import { HttpAnswer } from '@saga-lab/observability';
import type { DataSource } from 'typeorm';

export interface AdmissionOptions {
  /** Most sagas in flight before new orders are refused; 0 turns admission control off. */
  readonly maxInFlight: number;
  /** How old the count may be (ms): it is read again at most this often, while orders arrive. */
  readonly refreshMs: number;
}

/**
 * Admission control for new orders, tied to the saga backlog. By Little's law the sagas in flight are the
 * arrival rate times the completion time, so a cap on them is a cap on completion time at the rate the
 * pipeline sustains: past it, an order accepted now would wait behind the backlog until its step deadlines
 * cancel it. Refusing it at once (503 + Retry-After) is honest; accepting it and cancelling it later is not.
 * The count comes from the saga table (the sagas with a pending deadline, through its partial index),
 * read again at most every `refreshMs` while orders arrive, never on the request's own path.
 */
export class Admission {
  private inFlight = 0;
  private readAt = 0;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: AdmissionOptions,
    private readonly onShed: () => void = () => undefined,
  ) {}

  /** Throws 503 OVERLOADED when the backlog is full; otherwise lets the order in. */
  admit(): void {
    if (this.options.maxInFlight <= 0) return;
    if (Date.now() - this.readAt >= this.options.refreshMs && !this.reading) this.reading = this.read();
    if (this.inFlight < this.options.maxInFlight) return;
    this.onShed();
    throw new HttpAnswer(
      'OVERLOADED',
      `${this.inFlight} orders are still being processed (the limit is ${this.options.maxInFlight}); retry in a second`,
      {
        retriable: true,
        headers: { 'retry-after': '1' },
        details: { inFlight: this.inFlight, limit: this.options.maxInFlight },
      },
    );
  }

  private async read(): Promise<void> {
    try {
      const rows = (await this.dataSource.query(
        'SELECT count(*)::int AS n FROM saga_instances WHERE deadline IS NOT NULL',
      )) as { n: number }[];
      this.inFlight = rows[0]?.n ?? 0;
    } catch {
      // The database is unreachable: the order itself will fail on it; admission keeps the last count.
    } finally {
      this.readAt = Date.now();
      this.reading = undefined;
    }
  }
}
