import type {
  AnyMessage,
  CompensableOperation,
  MessageDefinition,
  Operation,
  PayloadOf,
  Replies,
} from '@saga-lab/contracts';

/** A command a saga decided to send. */
export interface SagaCommand {
  readonly type: string;
  readonly payload: unknown;
  /** Hands the command, still typed, to whatever sends it (the outbox): no cast between decision and wire. */
  send<T>(sink: <N extends string, P>(definition: MessageDefinition<N, P>, payload: P) => T): T;
}

export const command = <N extends string, P>(
  definition: MessageDefinition<N, P>,
  payload: P,
): SagaCommand => ({
  type: definition.type,
  payload,
  send: (sink) => sink(definition, payload),
});

/** How a step reacts to one reply. */
export type ReplyOutcome<D> =
  | { readonly outcome: 'success'; readonly data: D }
  | { readonly outcome: 'failure'; readonly reason: string };

export const success = <D>(data: D): ReplyOutcome<D> => ({ outcome: 'success', data });
export const failure = <D>(reason: string): ReplyOutcome<D> => ({ outcome: 'failure', reason });

/** One handler per reply the participant may send, keyed like the participant's `replies`. */
export type ReplyHandlers<D, R extends Replies> = {
  readonly [K in keyof R]: (data: D, reply: PayloadOf<R[K]>) => ReplyOutcome<D>;
};

/** What a compensation's reply says happened (kept in the saga's history), one per reply. */
export type CompensationReplyHandlers<D, R extends Replies> = {
  readonly [K in keyof R]: (data: D, reply: PayloadOf<R[K]>) => string;
};

/** A reply handler as the engine runs it: the payload is validated against its contract first. */
export interface ReplyHandler<D, O> {
  readonly type: string;
  handle(data: D, payload: unknown): O;
}

/**
 * One step as the engine runs it: the participant command, what its replies mean, and the compensation
 * that undoes it. The compensation is registered with the step, before the step runs: a step that timed
 * out may still have taken effect, so a timed-out step is compensated too (compensations are idempotent).
 */
export interface SagaStep<D> {
  readonly name: string;
  /** The state the saga shows while this step runs (e.g. RESERVING_STOCK). */
  readonly state: string;
  readonly timeoutMs: number;
  invoke(data: D): SagaCommand;
  readonly replies: readonly ReplyHandler<D, ReplyOutcome<D>>[];
  /** Undo (e.g. release stock, void or refund a payment); absent for a step with nothing to undo. */
  readonly compensation?: {
    readonly state: string;
    invoke(data: D): SagaCommand;
    readonly replies: readonly ReplyHandler<D, string>[];
  };
}

/** How a step is declared: against a participant operation, whose command and replies fix the types. */
export interface StepSpec<D, C extends AnyMessage, R extends Replies> {
  readonly name: string;
  readonly state: string;
  readonly timeoutMs: number;
  invoke(data: D): PayloadOf<C>;
  readonly replies: ReplyHandlers<D, R>;
}

export interface CompensationSpec<D, C extends AnyMessage, R extends Replies> {
  readonly state: string;
  invoke(data: D): PayloadOf<C>;
  readonly replies: CompensationReplyHandlers<D, R>;
}

/** The spec a step over `O` needs: its compensation exactly when the operation has one to undo. */
export type StepSpecFor<D, O extends Operation> = StepSpec<D, O['command'], O['replies']> &
  (O extends CompensableOperation<AnyMessage, Replies, infer UC, infer UR>
    ? { readonly compensation: CompensationSpec<D, UC, UR> }
    : { readonly compensation?: never });

/**
 * Declares steps for sagas over data `D`, each against a participant operation: its command's payload,
 * one handler per reply it may send (and no other), and its compensation when it has an effect to undo.
 */
export type StepDeclaration<D> = <O extends Operation>(operation: O, spec: StepSpecFor<D, O>) => SagaStep<D>;

/** Binds each reply's contract to its handler, so the payload a handler sees is the one its schema parsed. */
function bind<D, O, R extends Replies>(
  replies: R,
  handlers: { readonly [K in keyof R]: (data: D, reply: PayloadOf<R[K]>) => O },
): ReplyHandler<D, O>[] {
  const one = <K extends keyof R>(name: K): ReplyHandler<D, O> => {
    const definition = replies[name];
    const handle = handlers[name];
    // What this reply's own schema parsed is PayloadOf<R[K]> by construction; the compiler resolves `parse`
    // of a generic R[K] through its constraint (unknown), hence the one assertion.
    const parse = (payload: unknown): PayloadOf<R[K]> => definition.payload.parse(payload) as PayloadOf<R[K]>;
    return { type: definition.type, handle: (data, payload) => handle(data, parse(payload)) };
  };
  return Object.keys(replies).map((name) => one(name));
}

const declareStep = <D>(
  operation: Operation,
  spec: StepSpec<D, AnyMessage, Replies> & {
    readonly compensation?: CompensationSpec<D, AnyMessage, Replies>;
  },
): SagaStep<D> => {
  const undo = operation.compensation;
  const undoSpec = spec.compensation;
  return {
    name: spec.name,
    state: spec.state,
    timeoutMs: spec.timeoutMs,
    invoke: (data) => command(operation.command, spec.invoke(data)),
    replies: bind(operation.replies, spec.replies),
    ...(undo && undoSpec
      ? {
          compensation: {
            state: undoSpec.state,
            invoke: (data: D) => command(undo.command, undoSpec.invoke(data)),
            replies: bind(undo.replies, undoSpec.replies),
          },
        }
      : {}),
  };
};

/** The step declaration for sagas over `D`: `const step = stepsOf<PlaceOrderData>()`. */
export const stepsOf = <D>(): StepDeclaration<D> => declareStep;

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

/** Every reply type a saga can receive — its steps' replies and their compensations' — for subscribing. */
export const replyTypesOf = <D>(definition: SagaDefinition<D>): string[] => [
  ...new Set(
    definition.steps.flatMap((step) => [
      ...step.replies.map((reply) => reply.type),
      ...(step.compensation?.replies.map((reply) => reply.type) ?? []),
    ]),
  ),
];
