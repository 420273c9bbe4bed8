import { WorkLoop } from '@saga-lab/messaging';
import type { DataSource } from 'typeorm';
import type { SagaStore } from './saga-store';

export interface ReaperOptions {
  /** Pause between sweeps. */
  readonly intervalMs: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * Deadline reaper: every interval, moves overdue sagas to compensation and re-sends overdue compensations
 * (`SagaStore.reapOverdue`, rows claimed with `FOR UPDATE SKIP LOCKED`, so several instances share the
 * work). The outbox relay's shape (a WorkLoop): `stop()` returns once the sweep in flight committed.
 */
export class SagaReaper {
  private readonly loop: WorkLoop;

  constructor(
    store: Pick<SagaStore<unknown>, 'reapOverdue'>,
    dataSource: DataSource,
    options: ReaperOptions,
  ) {
    this.loop = new WorkLoop(async () => (await store.reapOverdue(dataSource)) > 0, {
      pauseMs: () => options.intervalMs,
      failurePauseMs: options.intervalMs,
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
