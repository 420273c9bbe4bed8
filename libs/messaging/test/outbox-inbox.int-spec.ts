import { HEADERS, OrderConfirmed, TOPICS, type EnvelopeOf } from '@saga-lab/contracts';
import { requireEnv, testKafka, testSchema, uniqueName, waitUntil } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { type Admin, type Consumer, type Producer } from 'kafkajs';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import {
  OutboxRelay,
  enqueue,
  contractTopics,
  ensureTopics,
  messagingEntities,
  messagingMigrations,
  processOnce,
} from '../src';

const total = { amountMinor: 4_200, currency: 'EUR' };

describe('outbox and inbox (real PostgreSQL and Kafka)', () => {
  const url = requireEnv('ORDER_DATABASE_URL');
  const schema = testSchema(url, 'msg');
  const kafka = testKafka('int-outbox');
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    entities: messagingEntities,
    migrations: messagingMigrations,
    poolSize: 12,
    extra: { options: schema.connectionOptions.options },
  });
  const correlationId = uniqueName('corr');
  const received = new Map<
    string,
    { envelope: EnvelopeOf<{ orderId: string }>; headers: Record<string, string> }[]
  >();
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();

    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, contractTopics([TOPICS.orderEvents]));
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = kafka.consumer({ groupId: uniqueName('int-outbox-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPICS.orderEvents, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const envelope = JSON.parse(String(message.value)) as EnvelopeOf<{ orderId: string }>;
        if (envelope.correlationId !== correlationId) return; // other tests' traffic on the shared topic
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]),
        );
        received.set(envelope.messageId, [
          ...(received.get(envelope.messageId) ?? []),
          { envelope, headers },
        ]);
      },
    });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.disconnect();
    if (dataSource.isInitialized) {
      await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
      await dataSource.destroy();
    }
  });

  const pendingCount = async (): Promise<number> =>
    Number(
      (
        (await dataSource.query('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL')) as {
          n: string;
        }[]
      )[0]?.n,
    );

  it('never emits a message whose transaction rolled back', async () => {
    const orderId = randomUUID();
    await expect(
      dataSource.transaction(async (manager) => {
        await enqueue(manager, OrderConfirmed, { orderId, total }, { correlationId });
        throw new Error('the state change failed after the message was staged');
      }),
    ).rejects.toThrow('the state change failed');
    await expect(pendingCount()).resolves.toBe(0);
  });

  it('refuses to stage a message outside a transaction', async () => {
    await expect(
      enqueue(dataSource.manager, OrderConfirmed, { orderId: randomUUID(), total }, { correlationId }),
    ).rejects.toThrow(/inside a transaction/);
  });

  it('publishes committed messages with their headers, each once, with two relays racing', async () => {
    const orderIds = Array.from({ length: 200 }, () => randomUUID());
    for (const chunk of [orderIds.slice(0, 100), orderIds.slice(100)]) {
      await dataSource.transaction(async (manager) => {
        for (const orderId of chunk) {
          await enqueue(
            manager,
            OrderConfirmed,
            { orderId, total },
            { correlationId, sagaId: orderId },
            {
              headers: { [HEADERS.traceparent]: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
            },
          );
        }
      });
    }
    await expect(pendingCount()).resolves.toBe(200);

    const relays = [
      new OutboxRelay(dataSource, producer, { batchSize: 7 }),
      new OutboxRelay(dataSource, producer, { batchSize: 11 }),
    ];
    const publishedBy = await Promise.all(
      relays.map(async (relay) => {
        let sum = 0;
        for (let n = await relay.publishBatch(); n > 0; n = await relay.publishBatch()) sum += n;
        return sum;
      }),
    );
    expect(publishedBy.reduce((a, b) => a + b, 0)).toBe(200);
    expect(publishedBy.every((n) => n > 0)).toBe(true); // SKIP LOCKED let both work at once
    await expect(pendingCount()).resolves.toBe(0);

    await waitUntil(() => received.size >= 200, {
      timeoutMs: 20_000,
      what: '200 distinct messages on order.events.v1',
    });
    expect(received.size).toBe(200);
    for (const copies of received.values()) {
      expect(copies).toHaveLength(1);
      const [{ envelope, headers }] = copies as [(typeof copies)[number]];
      expect(envelope.type).toBe('order.OrderConfirmed');
      expect(headers[HEADERS.messageType]).toBe('order.OrderConfirmed');
      expect(headers[HEADERS.correlationId]).toBe(correlationId);
      expect(headers[HEADERS.traceparent]).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    }
    expect(new Set([...received.values()].flat().map((c) => c.envelope.payload.orderId))).toEqual(
      new Set(orderIds),
    );
  }, 60_000);

  it('runs an effect once per message, even when duplicates arrive concurrently', async () => {
    await dataSource.query('CREATE TABLE effects (message_id uuid, n int)');
    const messageId = randomUUID();
    const deliver = (): Promise<boolean> =>
      dataSource.transaction((manager) =>
        processOnce(manager, 'inventory-service', messageId, async () => {
          await manager.query('INSERT INTO effects (message_id, n) VALUES ($1, 1)', [messageId]);
        }),
      );
    const outcomes = await Promise.all(Array.from({ length: 10 }, deliver));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    await expect(deliver()).resolves.toBe(false);
    const rows = (await dataSource.query('SELECT count(*) AS n FROM effects')) as { n: string }[];
    expect(Number(rows[0]?.n)).toBe(1);
  });

  it('forgets the inbox record when the effect fails, so a redelivery can succeed', async () => {
    const messageId = randomUUID();
    await expect(
      dataSource.transaction((manager) =>
        processOnce(manager, 'inventory-service', messageId, async () => {
          throw new Error('database constraint violated');
        }),
      ),
    ).rejects.toThrow('constraint');
    const retried = await dataSource.transaction((manager) =>
      processOnce(manager, 'inventory-service', messageId, async () => undefined),
    );
    expect(retried).toBe(true);
  });
});
