import type { MessageDefinition } from '@saga-lab/contracts';

/** A command a saga sends to a participant: which message, with which payload. */
export interface SagaCommand {
  readonly definition: MessageDefinition<string, never>;
  readonly payload: unknown;
}

export const command = <T extends string, P>(
  definition: MessageDefinition<T, P>,
  payload: P,
): SagaCommand => ({
  definition: definition as unknown as MessageDefinition<string, never>,
  payload,
});

/** How a step reacts to one reply type. */
export type ReplyOutcome<D> =
  | { readonly outcome: 'success'; readonly data: D }
  | { readonly outcome: 'failure'; readonly reason: string };

export interface ReplyHandler<D, P = never> {
  readonly definition: MessageDefinition<string, P>;
  handle(data: D, payload: P): ReplyOutcome<D>;
}

export const onReply = <D, T extends string, P>(
  definition: MessageDefinition<T, P>,
  handle: (data: D, payload: P) => ReplyOutcome<D>,
): ReplyHandler<D, never> => ({ definition, handle }) as unknown as ReplyHandler<D, never>;

export const success = <D>(data: D): ReplyOutcome<D> => ({ outcome: 'success', data });
export const failure = <D>(reason: string): ReplyOutcome<D> => ({ outcome: 'failure', reason });

/**
 * One step: the participant command, what its replies mean, and the compensation that undoes it.
 * The compensation is registered with the step, before the step runs: a step that timed out may still
 * have taken effect, so a timed-out step is compensated too (compensations are idempotent).
 */
export interface SagaStep<D> {
  readonly name: string;
  /** The state the saga shows while this step runs (e.g. RESERVING_STOCK). */
  readonly state: string;
  invoke(data: D): SagaCommand;
  readonly replies: readonly ReplyHandler<D>[];
  /** Undo (e.g. release stock, void payment) and the reply that confirms it; absent for a step with nothing to undo. */
  readonly compensation?: {
    readonly state: string;
    invoke(data: D): SagaCommand;
    readonly reply: MessageDefinition<string, never>;
  };
  readonly timeoutMs: number;
}

export interface SagaDefinition<D> {
  readonly name: string;
  readonly steps: readonly SagaStep<D>[];
  /** Terminal states: every step succeeded; a step failed before anything needed undoing; compensated. */
  readonly completedState: string;
  readonly rejectedState: string;
  readonly compensatedState: string;
  /** Retry delay for a compensation whose reply did not come (exponential backoff with full jitter). */
  readonly compensationRetry: { readonly baseMs: number; readonly maxMs: number };
}

export function defineSaga<D>(definition: SagaDefinition<D>): SagaDefinition<D> {
  return Object.freeze(definition);
}
