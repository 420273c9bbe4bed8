import type { SagaCommand, SagaDefinition } from './definition';

export type SagaPhase = 'RUNNING' | 'COMPENSATING' | 'COMPLETED' | 'REJECTED' | 'COMPENSATED';

export interface SagaEvent {
  readonly at: string;
  readonly event: string;
  readonly detail?: string;
}

/** A saga instance: persisted as one row, changed only through the functions below. */
export interface SagaInstance<D> {
  readonly sagaId: string;
  readonly phase: SagaPhase;
  /** Human-facing state (RESERVING_STOCK, CONFIRMED, …), derived from phase and step. */
  readonly state: string;
  /** RUNNING: the step awaiting its reply. COMPENSATING: the step being compensated. */
  readonly step: number;
  readonly data: D;
  /** When the awaited reply is overdue; null in a terminal phase. */
  readonly deadline: string | null;
  readonly compensationAttempt: number;
  readonly failureReason: string | null;
  readonly history: readonly SagaEvent[];
}

/** What a transition decided: the next instance and the commands to send with it (in one transaction). */
export interface Transition<D> {
  readonly instance: SagaInstance<D>;
  readonly commands: readonly SagaCommand[];
}

export interface Clock {
  now(): Date;
  /** A number in [0, 1) for jitter. */
  random(): number;
}

export const systemClock: Clock = { now: () => new Date(), random: Math.random };

const terminal = (phase: SagaPhase): boolean =>
  phase === 'COMPLETED' || phase === 'REJECTED' || phase === 'COMPENSATED';

function at(clock: Clock, ms: number): string {
  return new Date(clock.now().getTime() + ms).toISOString();
}

function record<D>(instance: SagaInstance<D>, clock: Clock, event: string, detail?: string): SagaEvent[] {
  return [...instance.history, { at: clock.now().toISOString(), event, ...(detail ? { detail } : {}) }];
}

export function startSaga<D>(
  definition: SagaDefinition<D>,
  sagaId: string,
  data: D,
  clock: Clock = systemClock,
): Transition<D> {
  const first = definition.steps[0];
  if (!first) throw new Error(`saga ${definition.name} has no steps`);
  const instance: SagaInstance<D> = {
    sagaId,
    phase: 'RUNNING',
    state: first.state,
    step: 0,
    data,
    deadline: at(clock, first.timeoutMs),
    compensationAttempt: 0,
    failureReason: null,
    history: [
      { at: clock.now().toISOString(), event: 'started' },
      { at: clock.now().toISOString(), event: `${first.name}: sent` },
    ],
  };
  return { instance, commands: [first.invoke(data)] };
}

/** Starts compensating from step `from` downwards (skipping steps with nothing to undo). */
function compensateFrom<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  from: number,
  reason: string,
  history: SagaEvent[],
  clock: Clock,
): Transition<D> {
  let step = from;
  while (step >= 0 && !definition.steps[step]?.compensation) step -= 1;
  const compensation = definition.steps[step]?.compensation;
  if (step < 0 || !compensation) {
    // Nothing took effect: the saga ends without compensation. If it never got past its first step,
    // that is a rejection; otherwise it is compensated (there was simply nothing left to undo).
    const phase: SagaPhase =
      instance.phase === 'RUNNING' && instance.step === 0 && from < 0 ? 'REJECTED' : 'COMPENSATED';
    const state = phase === 'REJECTED' ? definition.rejectedState : definition.compensatedState;
    return {
      instance: {
        ...instance,
        phase,
        state,
        deadline: null,
        failureReason: instance.failureReason ?? reason,
        history: [...history, { at: clock.now().toISOString(), event: state }],
      },
      commands: [],
    };
  }
  const stepDef = definition.steps[step];
  return {
    instance: {
      ...instance,
      phase: 'COMPENSATING',
      state: compensation.state,
      step,
      deadline: at(clock, stepDef?.timeoutMs ?? 0),
      compensationAttempt: 1,
      failureReason: instance.failureReason ?? reason,
      history: [...history, { at: clock.now().toISOString(), event: `${stepDef?.name}: compensation sent` }],
    },
    commands: [compensation.invoke(instance.data)],
  };
}

/**
 * Applies a participant's reply. Replies are matched by message type: the current step's replies while
 * running, the current compensation's reply while compensating. A success reply for a step that is
 * already being (or has been) compensated is a *late reply*: its effect is undone again by re-sending
 * that step's compensation (e.g. an authorization that arrives after the timeout is voided).
 * Anything else (a duplicate, a reply for a finished step) changes nothing.
 */
export function handleReply<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  replyType: string,
  payload: unknown,
  clock: Clock = systemClock,
): Transition<D> {
  const noop: Transition<D> = { instance, commands: [] };

  if (instance.phase === 'RUNNING') {
    const step = definition.steps[instance.step];
    const handler = step?.replies.find((r) => r.type === replyType);
    if (!step || !handler) return noop;
    const result = handler.handle(instance.data, payload);
    if (result.outcome === 'failure') {
      const history = record(instance, clock, `${step.name}: failed`, result.reason);
      // The participant said no: this step had no effect, so undo the steps before it.
      return compensateFrom(
        definition,
        { ...instance, failureReason: result.reason },
        instance.step - 1,
        result.reason,
        history,
        clock,
      );
    }
    const history = record({ ...instance }, clock, `${step.name}: succeeded`);
    const nextIndex = instance.step + 1;
    const next = definition.steps[nextIndex];
    if (!next) {
      return {
        instance: {
          ...instance,
          data: result.data,
          phase: 'COMPLETED',
          state: definition.completedState,
          deadline: null,
          history: [...history, { at: clock.now().toISOString(), event: definition.completedState }],
        },
        commands: [],
      };
    }
    return {
      instance: {
        ...instance,
        data: result.data,
        step: nextIndex,
        state: next.state,
        deadline: at(clock, next.timeoutMs),
        history: [...history, { at: clock.now().toISOString(), event: `${next.name}: sent` }],
      },
      commands: [next.invoke(result.data)],
    };
  }

  // Compensating or finished: is this the compensation we wait for?
  if (instance.phase === 'COMPENSATING') {
    const step = definition.steps[instance.step];
    const handler = step?.compensation?.replies.find((r) => r.type === replyType);
    if (step && handler) {
      // The participant says what its compensation did (e.g. voided, or refunded): the history keeps it.
      const history = record(
        instance,
        clock,
        `${step.name}: compensated`,
        handler.handle(instance.data, payload),
      );
      return compensateFrom(
        definition,
        { ...instance, step: instance.step },
        instance.step - 1,
        instance.failureReason ?? 'compensated',
        history,
        clock,
      );
    }
  }

  // A late success reply for a step whose effect must not stand.
  const lateStep = definition.steps.findIndex((s) => s.replies.some((r) => r.type === replyType));
  const late = definition.steps[lateStep];
  if (late?.compensation && isUndone(instance, lateStep)) {
    const handler = late.replies.find((r) => r.type === replyType);
    const outcome = handler?.handle(instance.data, payload);
    if (outcome?.outcome === 'success') {
      return {
        instance: {
          ...instance,
          history: record(instance, clock, `${late.name}: late success, compensated again`),
        },
        commands: [late.compensation.invoke(instance.data)],
      };
    }
  }
  return noop;
}

/** True when step `index` is being compensated, was compensated, or was never reached before the saga ended. */
function isUndone<D>(instance: SagaInstance<D>, index: number): boolean {
  if (instance.phase === 'COMPENSATING') return index >= instance.step;
  return instance.phase === 'COMPENSATED' || instance.phase === 'REJECTED';
}

/**
 * The deadline reaper's move for an overdue saga. A running step that timed out is compensated *itself*
 * (it may have taken effect without replying), then the steps before it. An overdue compensation is sent
 * again with exponential backoff and full jitter, for as long as it takes: compensations must succeed.
 */
export function handleDeadline<D>(
  definition: SagaDefinition<D>,
  instance: SagaInstance<D>,
  clock: Clock = systemClock,
): Transition<D> {
  if (terminal(instance.phase) || !instance.deadline || new Date(instance.deadline) > clock.now()) {
    return { instance, commands: [] };
  }
  const step = definition.steps[instance.step];
  if (instance.phase === 'RUNNING') {
    const reason = `${step?.name ?? 'step'}: timed out`;
    const history = record(instance, clock, reason);
    return compensateFrom(
      definition,
      { ...instance, failureReason: reason },
      instance.step,
      reason,
      history,
      clock,
    );
  }
  const compensation = step?.compensation;
  if (!compensation) return { instance, commands: [] };
  const attempt = instance.compensationAttempt + 1;
  const { baseMs, maxMs } = definition.compensationRetry;
  const backoff = Math.floor(clock.random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)));
  return {
    instance: {
      ...instance,
      compensationAttempt: attempt,
      deadline: at(clock, (step?.timeoutMs ?? 0) + backoff),
      history: record(instance, clock, `${step?.name}: compensation re-sent`, `attempt ${attempt}`),
    },
    commands: [compensation.invoke(instance.data)],
  };
}

export const isTerminal = <D>(instance: SagaInstance<D>): boolean => terminal(instance.phase);
