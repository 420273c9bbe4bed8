import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  OrderConfirmed,
  ReserveStock,
  TOPICS,
  createEnvelope,
  type EnvelopeFor,
  type EnvelopeOf,
} from '@saga-lab/contracts';
import {
  requireEnv,
  schemaDataSource,
  testKafka,
  uniqueName,
  untilConsuming,
  waitUntil,
} from '@saga-lab/testing';
import type { Admin, Consumer, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EntityManager } from 'typeorm';
import {
  DirectPublish,
  HandlerTransaction,
  contractTopics,
  enqueue,
  ensureTopics,
  messagingEntities,
  messagingMigrations,
  transactionalInbox,
  type DirectMessage,
} from '../src';
import { transportUnderTest, type TransportUnderTest } from './transport-under-test';

/**
 * The failure lab's messaging safeguards switched off, against the real broker and database: what the
 * outbox and the inbox protect against happens once they are gone.
 */
const total = { amountMinor: 1_000, currency: 'EUR' };

describe('outbox off: published directly after the commit (real PostgreSQL and Kafka)', () => {
  const { dataSource, schema } = schemaDataSource(requireEnv('ORDER_DATABASE_URL'), 'direct', {
    entities: messagingEntities,
    migrations: messagingMigrations,
  });
  const kafka = testKafka('int-direct');
  const correlationId = uniqueName('corr');
  const received = new Set<string>();
  const lost: { error: unknown; messages: readonly DirectMessage[] }[] = [];
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;
  let direct: DirectPublish;

  const outboxRows = async (): Promise<number> =>
    Number(((await dataSource.query('SELECT count(*) AS n FROM outbox')) as { n: string }[])[0]?.n);
  const confirm = (manager: EntityManager, orderId: string): Promise<EnvelopeOf<unknown>> =>
    enqueue(manager, OrderConfirmed, { orderId, total }, { correlationId });

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, contractTopics([TOPICS.orderEvents]));
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = kafka.consumer({ groupId: uniqueName('int-direct-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.orderEvents, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const envelope = JSON.parse(String(message.value)) as EnvelopeOf<unknown>;
        if (envelope.correlationId === correlationId) received.add(envelope.messageId);
      },
    });
    direct = DirectPublish.install(dataSource, producer, {
      onLost: (error, messages) => lost.push({ error, messages }),
    });
  }, 60_000);

  afterAll(async () => {
    direct?.uninstall();
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    await dataSource.destroy().catch(() => undefined);
    await schema.drop();
  });

  it('publishes a committed message after the commit, and writes no outbox row', async () => {
    let staged: EnvelopeOf<unknown> | undefined;
    await dataSource.transaction(async (manager) => {
      staged = await confirm(manager, randomUUID());
      await sleep(500); // long enough for a publish to arrive, had one happened before the commit
      expect(received.has(staged.messageId)).toBe(false);
    });
    const messageId = staged?.messageId ?? '';
    await waitUntil(() => received.has(messageId), { timeoutMs: 20_000, what: 'the committed message' });
    expect(await outboxRows()).toBe(0);
  }, 30_000);

  it('publishes nothing for a transaction that rolled back', async () => {
    const orderId = randomUUID();
    let rolledBack: EnvelopeOf<unknown> | undefined;
    await expect(
      dataSource.transaction(async (manager) => {
        rolledBack = await confirm(manager, orderId);
        throw new Error('the state change failed after the message was staged');
      }),
    ).rejects.toThrow('the state change failed');
    // Same key, same partition: had the rolled-back message been published, it would arrive first.
    const marker = await dataSource.transaction((manager) => confirm(manager, orderId));
    await waitUntil(() => received.has(marker.messageId), { timeoutMs: 20_000, what: 'the marker' });
    expect(received.has(rolledBack?.messageId ?? '')).toBe(false);
    expect(await outboxRows()).toBe(0);
  }, 30_000);

  it('loses a committed message when the publish after the commit fails', async () => {
    direct.uninstall();
    const down = kafka.producer();
    await down.connect();
    await down.disconnect(); // the broker is out of reach for this producer from now on
    const failing = DirectPublish.install(dataSource, down, {
      onLost: (error, messages) => lost.push({ error, messages }),
    });
    try {
      await dataSource.query('CREATE TABLE effects (order_id uuid NOT NULL)');
      const orderId = randomUUID();
      const envelope = await dataSource.transaction(async (manager) => {
        await manager.query('INSERT INTO effects (order_id) VALUES ($1)', [orderId]);
        return confirm(manager, orderId);
      });
      // The state change committed; its message exists nowhere: not in Kafka, not in the outbox.
      const effects = (await dataSource.query('SELECT count(*) AS n FROM effects WHERE order_id = $1', [
        orderId,
      ])) as { n: string }[];
      expect(Number(effects[0]?.n)).toBe(1);
      expect(lost.map((l) => l.messages.map((m) => m.messageId))).toEqual([[envelope.messageId]]);
      expect(await outboxRows()).toBe(0);
      await sleep(1_000);
      expect(received.has(envelope.messageId)).toBe(false);
    } finally {
      failing.uninstall();
      direct = DirectPublish.install(dataSource, producer);
    }
  }, 30_000);
});

const calls: string[] = [];

@Controller()
class CountingEffect {
  @EventPattern(ReserveStock.type)
  async reserve(
    @Payload() command: EnvelopeFor<typeof ReserveStock>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    calls.push(command.payload.orderId);
    await manager.query('INSERT INTO effects (order_id) VALUES ($1)', [command.payload.orderId]);
  }
}

@Module({ controllers: [CountingEffect] })
class CountingModule {}

describe('inbox off: every delivery runs the handler (real Kafka, PostgreSQL)', () => {
  const { dataSource, schema } = schemaDataSource(requireEnv('INVENTORY_DATABASE_URL'), 'noinbox', {
    entities: messagingEntities,
    migrations: messagingMigrations,
  });
  const kafka = testKafka('int-noinbox');
  const groupId = uniqueName('int-noinbox');
  const correlationId = uniqueName('corr');
  let transport: TransportUnderTest;
  const command = (orderId: string) =>
    createEnvelope(ReserveStock, { orderId, lines: [{ productId: 'tea', quantity: 1 }] }, { correlationId });
  const count = async (sql: string, params: unknown[]): Promise<number> =>
    Number(((await dataSource.query(sql, params)) as { n: string }[])[0]?.n);
  const effects = (orderId: string): Promise<number> =>
    count('SELECT count(*) AS n FROM effects WHERE order_id = $1', [orderId]);

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.query('CREATE TABLE effects (order_id text NOT NULL)');
    transport = await transportUnderTest(kafka, CountingModule, groupId, {
      retry: { maxAttempts: 2, baseDelayMs: 20, maxDelayMs: 50 },
      unitOfWork: transactionalInbox(dataSource, groupId, { deduplicate: false }),
    });
    await untilConsuming(
      async () => {
        const probe = randomUUID();
        await transport.publish(command(probe), probe);
        return probe;
      },
      async (probe) => (await effects(probe)) >= 1,
    );
  }, 60_000);

  afterAll(async () => {
    await transport?.close();
    await dataSource.destroy().catch(() => undefined);
    await schema.drop();
  });

  it('applies a redelivered command twice, and records nothing in the inbox', async () => {
    const orderId = randomUUID();
    const envelope = command(orderId);
    await transport.publish(envelope, orderId);
    await transport.publish(envelope, orderId); // the same message (same id) delivered again
    const marker = randomUUID();
    await transport.publish(command(marker), orderId); // same key: it comes after both copies
    await waitUntil(async () => (await effects(marker)) === 1, { timeoutMs: 20_000, what: 'the marker' });
    expect(calls.filter((c) => c === orderId)).toHaveLength(2);
    expect(await effects(orderId)).toBe(2);
    expect(await count('SELECT count(*) AS n FROM inbox', [])).toBe(0);
  }, 30_000);

  it('still runs the handler in its transaction: a failed handler leaves no effect', async () => {
    // The unit of work keeps the transaction without the inbox: a handler's writes commit or vanish together.
    const orderId = randomUUID();
    await expect(
      transactionalInbox(dataSource, groupId, { deduplicate: false })(command(orderId), async (manager) => {
        await manager.query('INSERT INTO effects (order_id) VALUES ($1)', [orderId]);
        throw new Error('a bug after the write');
      }),
    ).rejects.toThrow('a bug after the write');
    expect(await effects(orderId)).toBe(0);
  });
});
