import { setTimeout as sleep } from 'node:timers/promises';

export interface WorkLoopOptions {
  /** Pause after a round: e.g. none while there is work left, some when idle. */
  pauseMs(didWork: boolean): number;
  /** Pause after a failed round (the next round tries again). */
  readonly failurePauseMs: number;
  readonly onError?: (error: unknown) => void;
}

/**
 * A background loop with a clean stop, the shape of the outbox relay and the saga reaper: rounds run one
 * after another; `stop()` returns once the round in flight has finished (and so committed), never halfway.
 */
export class WorkLoop {
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    /** One round; true when it found work (the relay published, the reaper moved a saga). */
    private readonly round: () => Promise<boolean>,
    private readonly options: WorkLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        let pause: number;
        try {
          pause = this.options.pauseMs(await this.round());
        } catch (error) {
          this.options.onError?.(error);
          pause = this.options.failurePauseMs;
        }
        if (pause > 0 && this.running) await sleep(pause);
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
