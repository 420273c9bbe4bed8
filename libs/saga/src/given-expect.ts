import type { MessageDefinition } from '@saga-lab/contracts';
import { isDeepStrictEqual } from 'node:util';
import type { SagaCommand, SagaDefinition } from './definition';
import {
  handleDeadline,
  handleReply,
  startSaga,
  type Clock,
  type SagaInstance,
  type Transition,
} from './engine';

/** A clock the test moves by hand; jitter is fixed so retry delays are reproducible. */
export class ManualClock implements Clock {
  constructor(private current = new Date('2026-01-01T00:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  random(): number {
    return 0.5;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

const describeCommands = (commands: readonly SagaCommand[]): string =>
  commands.length === 0 ? 'no command' : commands.map((c) => c.type).join(', ');

/**
 * Given/expect tests for a saga definition: each line is a message in or out, read top to bottom like
 * the conversation between the orchestrator and its participants. Assertions throw with what was
 * expected and what happened, so a failing line is self-explanatory in any test runner.
 */
export class SagaScenario<D> {
  private last: Transition<D>;
  private pending: SagaCommand[];
  readonly clock: ManualClock;

  private constructor(
    private readonly definition: SagaDefinition<D>,
    data: D,
    clock: ManualClock,
  ) {
    this.clock = clock;
    this.last = startSaga(definition, 'saga-under-test', data, clock);
    this.pending = [...this.last.commands];
  }

  static given<D>(definition: SagaDefinition<D>, data: D, clock = new ManualClock()): SagaScenario<D> {
    return new SagaScenario(definition, data, clock);
  }

  get instance(): SagaInstance<D> {
    return this.last.instance;
  }

  /** The next command sent must be of this type (and, if given, carry this payload). */
  expectCommand<T extends string, P>(definition: MessageDefinition<T, P>, payload?: P): this {
    const next = this.pending.shift();
    if (!next || next.type !== definition.type) {
      throw new Error(
        `expected the saga to send ${definition.type}, but it sent ${next ? next.type : 'nothing'}`,
      );
    }
    if (payload !== undefined && !isDeepStrictEqual(next.payload, payload)) {
      throw new Error(
        `${definition.type} payload differs:\n expected ${JSON.stringify(payload)}\n got      ${JSON.stringify(next.payload)}`,
      );
    }
    return this;
  }

  expectNoCommand(): this {
    if (this.pending.length > 0)
      throw new Error(`expected no command, but the saga sent ${describeCommands(this.pending)}`);
    return this;
  }

  expectState(state: string): this {
    if (this.instance.state !== state) {
      throw new Error(
        `expected state ${state}, but the saga is ${this.instance.state} (${this.instance.phase})`,
      );
    }
    return this;
  }

  whenReply<T extends string, P>(definition: MessageDefinition<T, P>, payload: P): this {
    this.assertAllCommandsChecked(`replying ${definition.type}`);
    this.apply(handleReply(this.definition, this.instance, definition.type, payload, this.clock));
    return this;
  }

  /** Moves the clock past the current deadline and runs the reaper on the saga. */
  whenDeadlinePasses(): this {
    this.assertAllCommandsChecked('the deadline passes');
    const deadline = this.instance.deadline;
    if (!deadline) throw new Error(`the saga has no deadline in state ${this.instance.state}`);
    this.clock.advance(new Date(deadline).getTime() - this.clock.now().getTime() + 1);
    this.apply(handleDeadline(this.definition, this.instance, this.clock));
    return this;
  }

  private apply(transition: Transition<D>): void {
    this.last = transition;
    this.pending = [...transition.commands];
  }

  private assertAllCommandsChecked(before: string): void {
    if (this.pending.length > 0) {
      throw new Error(`unchecked command(s) before ${before}: ${describeCommands(this.pending)}`);
    }
  }
}
