import { AppError } from '@saga-lab/errors';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { TopicName } from './topics';

/**
 * The envelope every message travels in: identity (messageId, used for inbox de-duplication), what it is
 * (type + schemaVersion), when, and causality (correlationId across a whole flow, causationId = the
 * message that caused this one). W3C trace context travels in Kafka headers, not here.
 */
export const envelopeSchema = z.object({
  messageId: z.uuid(),
  type: z.string().min(1),
  schemaVersion: z.number().int().positive(),
  occurredAt: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1).max(200),
  causationId: z.string().min(1).max(200).nullable(),
  sagaId: z.string().min(1).max(200).optional(),
  payload: z.unknown(),
});

export type EnvelopeOf<P> = Omit<z.infer<typeof envelopeSchema>, 'payload'> & { payload: P };

export type MessageKind = 'command' | 'reply' | 'event';

export interface MessageDefinition<T extends string = string, P = unknown> {
  readonly type: T;
  readonly schemaVersion: number;
  readonly kind: MessageKind;
  readonly topic: TopicName;
  readonly payload: z.ZodType<P>;
  /** The Kafka key: the aggregate id, so one aggregate's messages stay in order. */
  key(payload: P): string;
}

/** Any message definition, whatever its type name and payload. */
export type AnyMessage = MessageDefinition<string, unknown>;

/** A message's payload type, as its schema outputs it. */
export type PayloadOf<M extends AnyMessage> = z.output<M['payload']>;

/** The validated envelope a handler of message `M` receives: `EnvelopeFor<typeof ReserveStock>`. */
export type EnvelopeFor<M extends AnyMessage> = EnvelopeOf<PayloadOf<M>>;

/** Declares a message; its payload type is inferred from the schema (never from `key`). */
export function defineMessage<T extends string, S extends z.ZodType>(
  definition: Omit<MessageDefinition<T, z.output<S>>, 'payload' | 'key'> & {
    readonly payload: S;
    key(payload: z.output<S>): string;
  },
): MessageDefinition<T, z.output<S>> {
  return Object.freeze(definition) as MessageDefinition<T, z.output<S>>;
}

export interface EnvelopeMeta {
  readonly correlationId: string;
  readonly causationId?: string | null;
  readonly sagaId?: string;
  readonly messageId?: string;
  readonly occurredAt?: Date;
}

/** Builds a validated envelope: a producer cannot emit a payload its own contract rejects. */
export function createEnvelope<T extends string, P>(
  definition: MessageDefinition<T, P>,
  payload: P,
  meta: EnvelopeMeta,
): EnvelopeOf<P> {
  return {
    messageId: meta.messageId ?? randomUUID(),
    type: definition.type,
    schemaVersion: definition.schemaVersion,
    occurredAt: (meta.occurredAt ?? new Date()).toISOString(),
    correlationId: meta.correlationId,
    causationId: meta.causationId ?? null,
    ...(meta.sagaId === undefined ? {} : { sagaId: meta.sagaId }),
    payload: definition.payload.parse(payload),
  };
}

/** Raised for a message that does not match its contract; the messaging layer sends it to the DLQ. */
export class ContractViolation extends AppError<'CONTRACT_VIOLATION'> {
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super('CONTRACT_VIOLATION', message);
  }
}

const issuesOf = (error: z.ZodError): { path: string; message: string }[] =>
  error.issues.map((issue) => ({ path: issue.path.join('.') || '(root)', message: issue.message }));

/** Validates an incoming envelope, then its payload against the definition its `type` names. */
export function parseEnvelope<T extends string, P>(
  definition: MessageDefinition<T, P>,
  raw: unknown,
): EnvelopeOf<P> {
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) {
    throw new ContractViolation('invalid envelope', issuesOf(envelope.error));
  }
  if (envelope.data.type !== definition.type || envelope.data.schemaVersion !== definition.schemaVersion) {
    throw new ContractViolation(
      `expected ${definition.type} v${definition.schemaVersion}, got ${envelope.data.type} v${envelope.data.schemaVersion}`,
      [],
    );
  }
  const payload = definition.payload.safeParse(envelope.data.payload);
  if (!payload.success) {
    throw new ContractViolation(`invalid ${definition.type} payload`, issuesOf(payload.error));
  }
  return { ...envelope.data, payload: payload.data };
}
