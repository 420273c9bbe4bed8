import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { ReserveStock, createEnvelope, type EnvelopeFor } from '@saga-lab/contracts';
import {
  requireEnv,
  testKafka,
  schemaDataSource,
  uniqueName,
  untilConsuming,
  waitUntil,
} from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import {
  HandlerTransaction,
  listDeadLetters,
  messagingEntities,
  messagingMigrations,
  transactionalInbox,
} from '../src';
import { transportUnderTest, type TransportUnderTest } from './transport-under-test';

/** Orders whose handler fails after writing its effect (the transaction must take the write back). */
const failing = new Set<string>();
const calls: string[] = [];

/** A handler that holds only its effect: no inbox check, no transaction of its own. */
@Controller()
class EffectOnly {
  @EventPattern(ReserveStock.type)
  async reserve(
    @Payload() command: EnvelopeFor<typeof ReserveStock>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    const { orderId } = command.payload;
    calls.push(orderId);
    await manager.query('INSERT INTO effects (order_id) VALUES ($1)', [orderId]);
    if (failing.has(orderId)) throw new TypeError('a bug after the write');
  }
}

@Module({ controllers: [EffectOnly] })
class EffectModule {}

describe('KafkaTransport unit of work: the transaction and inbox check around every handler (real Kafka, PostgreSQL)', () => {
  const { dataSource, schema } = schemaDataSource(requireEnv('INVENTORY_DATABASE_URL'), 'uow', {
    entities: messagingEntities,
    migrations: messagingMigrations,
  });
  const kafka = testKafka('int-uow');
  const groupId = uniqueName('int-uow');
  const correlationId = uniqueName('corr');
  let transport: TransportUnderTest;
  const send = (envelope: unknown, key: string): Promise<unknown> => transport.publish(envelope, key);
  const command = (orderId: string) =>
    createEnvelope(ReserveStock, { orderId, lines: [{ productId: 'tea', quantity: 1 }] }, { correlationId });
  const count = async (sql: string, params: unknown[]): Promise<number> =>
    Number(((await dataSource.query(sql, params)) as { n: string }[])[0]?.n);
  const effects = (orderId: string): Promise<number> =>
    count('SELECT count(*) AS n FROM effects WHERE order_id = $1', [orderId]);
  const inboxRecords = (messageId: string): Promise<number> =>
    count('SELECT count(*) AS n FROM inbox WHERE consumer_group = $1 AND message_id = $2', [
      groupId,
      messageId,
    ]);

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    // No unique constraint: only the inbox stands between a duplicate and a second effect.
    await dataSource.query('CREATE TABLE effects (order_id text NOT NULL)');
    transport = await transportUnderTest(kafka, EffectModule, groupId, {
      retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
      unitOfWork: transactionalInbox(dataSource, groupId),
    });
    // The group starts at the end of the shared topic: the test's own messages go out once a probe came through.
    await untilConsuming(
      async () => {
        const probe = randomUUID();
        await send(command(probe), probe);
        return probe;
      },
      async (probe) => (await effects(probe)) === 1,
    );
  }, 60_000);

  afterAll(async () => {
    await transport?.close();
    await dataSource.destroy().catch(() => undefined);
    await schema.drop();
  });

  it('applies a command delivered three times once; the handler itself never checks', async () => {
    const orderId = randomUUID();
    const envelope = command(orderId);
    for (let i = 0; i < 3; i++) await send(envelope, orderId);
    const marker = randomUUID();
    await send(command(marker), orderId); // same key, so it comes after the three copies
    await waitUntil(async () => (await effects(marker)) === 1, { timeoutMs: 20_000, what: 'the marker' });
    expect(calls.filter((c) => c === orderId)).toHaveLength(1);
    expect(await effects(orderId)).toBe(1);
    expect(await inboxRecords(envelope.messageId)).toBe(1);
  }, 30_000);

  it('takes back the effect and the inbox record when the handler fails after writing', async () => {
    const orderId = randomUUID();
    failing.add(orderId);
    const envelope = command(orderId);
    await send(envelope, orderId);
    await waitUntil(
      async () => (await listDeadLetters(kafka, groupId)).some((d) => d.messageId === envelope.messageId),
      { timeoutMs: 20_000, what: 'the failing command in the DLQ' },
    );
    expect(calls.filter((c) => c === orderId).length).toBeGreaterThan(0);
    expect(await effects(orderId)).toBe(0);
    expect(await inboxRecords(envelope.messageId)).toBe(0);
  }, 30_000);
});
