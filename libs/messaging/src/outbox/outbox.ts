import {
  HEADERS,
  createEnvelope,
  type EnvelopeMeta,
  type EnvelopeOf,
  type MessageDefinition,
} from '@saga-lab/contracts';
import type { EntityManager } from 'typeorm';
import { currentTraceparent } from '../trace-context';
import { DirectPublish } from './direct-publish';

export interface OutboxWrite {
  /** Extra Kafka headers, e.g. the W3C `traceparent` of the current span. */
  readonly headers?: Record<string, string>;
}

/**
 * Transactional outbox: stages a message inside the caller's transaction. If that transaction rolls back,
 * the message never existed (docs/architecture.md, invariant 5); if it commits, the relay will publish it.
 * With the failure lab's outbox switched off (a `DirectPublish` on the data source), the message is held
 * in memory instead and published right after the commit — no row, so nothing survives a lost publish.
 */
export async function enqueue<T extends string, P>(
  manager: EntityManager,
  definition: MessageDefinition<T, P>,
  payload: P,
  meta: EnvelopeMeta,
  options: OutboxWrite = {},
): Promise<EnvelopeOf<P>> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error(`outbox: ${definition.type} must be enqueued inside a transaction with the state change`);
  }
  const envelope = createEnvelope(definition, payload, meta);
  const inherited = currentTraceparent();
  const headers = {
    ...(inherited ? { [HEADERS.traceparent]: inherited } : {}),
    ...options.headers,
    [HEADERS.messageType]: definition.type,
    [HEADERS.correlationId]: envelope.correlationId,
  };
  const key = definition.key(envelope.payload);
  const direct = DirectPublish.of(manager.dataSource);
  if (direct && manager.queryRunner) {
    direct.stage(manager.queryRunner, {
      messageId: envelope.messageId,
      topic: definition.topic,
      key,
      type: definition.type,
      sagaId: envelope.sagaId,
      envelope,
      headers,
    });
    return envelope;
  }
  await manager.query(
    `INSERT INTO outbox (message_id, topic, message_key, type, envelope, headers) VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      envelope.messageId,
      definition.topic,
      key,
      definition.type,
      JSON.stringify(envelope),
      JSON.stringify(headers),
    ],
  );
  return envelope;
}

/**
 * Meta for a message sent because of `cause` (a reply to a command, say): same correlation and saga,
 * and the cause's id as its causation id.
 */
export function metaCausedBy(cause: EnvelopeOf<unknown>): EnvelopeMeta {
  return {
    correlationId: cause.correlationId,
    causationId: cause.messageId,
    ...(cause.sagaId ? { sagaId: cause.sagaId } : {}),
  };
}
