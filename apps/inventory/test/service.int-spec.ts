import {
  HEADERS,
  ReleaseStock,
  ReserveStock,
  TOPICS,
  createEnvelope,
  type EnvelopeOf,
} from '@saga-lab/contracts';
import { headersOf, listDeadLetters } from '@saga-lab/messaging';
import { requireEnv, testKafka, uniqueName, waitUntil } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import type { Consumer, Producer } from 'kafkajs';
import { Client } from 'pg';
import { loadConfig } from '../src/config';
import { CONSUMER_GROUP } from '../src/messaging/stock-commands.controller';
import { startInventoryService, type RunningService } from '../src/service';

describe('inventory service (real PostgreSQL, Kafka, Consul)', () => {
  const kafka = testKafka('int-inventory-svc');
  const correlationId = uniqueName('corr');
  const productId = uniqueName('p').slice(0, 60);
  const replies: {
    envelope: EnvelopeOf<{ orderId: string; reservationId?: string; released?: boolean }>;
    headers: Record<string, string>;
  }[] = [];
  const events: EnvelopeOf<{ productId: string; available: number }>[] = [];
  let service: RunningService;
  let producer: Producer;
  let consumer: Consumer;
  let db: Client;

  const stock = async (): Promise<{ available: number; reserved: number }> =>
    (await db.query('SELECT available, reserved FROM products WHERE product_id = $1', [productId]))
      .rows[0] as { available: number; reserved: number };
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const publish = (envelope: { payload: { orderId: string } }): Promise<unknown> =>
    producer.send({
      topic: TOPICS.inventoryCommands,
      acks: -1,
      messages: [
        { key: envelope.payload.orderId, value: JSON.stringify(envelope), headers: { traceparent } },
      ],
    });
  const repliesFor = (orderId: string) => replies.filter((r) => r.envelope.payload.orderId === orderId);

  beforeAll(async () => {
    service = await startInventoryService(loadConfig({ ...process.env, INVENTORY_PORT: '0' }), {
      log: () => undefined,
      warn: () => undefined,
      error: () => undefined,
    });
    db = new Client({ connectionString: requireEnv('INVENTORY_DATABASE_URL') });
    await db.connect();
    await db.query(
      `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ($1, 'Test product', 1000, 'EUR', 10)`,
      [productId],
    );
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = kafka.consumer({ groupId: uniqueName('int-inventory-reader') });
    await consumer.connect();
    await consumer.subscribe({
      topics: [TOPICS.inventoryReplies, TOPICS.inventoryEvents],
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const envelope = JSON.parse(String(message.value)) as EnvelopeOf<never>;
        if (envelope.correlationId !== correlationId) return;
        if (topic === TOPICS.inventoryEvents) events.push(envelope);
        else replies.push({ envelope, headers: headersOf(message.headers) });
      },
    });
  }, 60_000);

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await db?.end();
    await service?.close();
  });

  it('is ready and serves the catalog', async () => {
    const ready = await fetch(`${service.url}/health/ready`);
    expect(ready.status).toBe(200);
    await expect(ready.json()).resolves.toEqual({ status: 'up', checks: { database: 'up', kafka: 'up' } });
    const product = await fetch(`${service.url}/products/${productId}`);
    await expect(product.json()).resolves.toMatchObject({
      productId,
      available: 10,
      price: { amountMinor: 1000, currency: 'EUR' },
    });
    expect((await fetch(`${service.url}/products/no-such-product`)).status).toBe(404);
    const page = (await (await fetch(`${service.url}/products?limit=1`)).json()) as {
      items: unknown[];
      nextCursor: string | null;
    };
    expect(page).toEqual({ items: [expect.any(Object)], nextCursor: expect.any(String) });
  });

  it('answers ReserveStock once per message and consistently per order, with its causality', async () => {
    const orderId = randomUUID();
    const command = createEnvelope(
      ReserveStock,
      { orderId, lines: [{ productId, quantity: 3 }] },
      { correlationId, sagaId: orderId },
    );
    await publish(command);
    await publish(command); // the same message delivered twice
    const resent = createEnvelope(ReserveStock, command.payload, { correlationId, sagaId: orderId }); // a saga retry: new message id
    await publish(resent);

    await waitUntil(() => repliesFor(orderId).length >= 2, { timeoutMs: 20_000, what: 'two replies' });
    await waitUntil(() => events.some((e) => e.payload.productId === productId), {
      timeoutMs: 20_000,
      what: 'a ProductUpdated event',
    });
    const answers = repliesFor(orderId);
    expect(answers).toHaveLength(2); // one per distinct message id: the duplicate had no effect
    expect(answers.map((a) => a.envelope.type)).toEqual([
      'inventory.StockReserved',
      'inventory.StockReserved',
    ]);
    expect(answers[0]?.envelope.payload.reservationId).toBe(answers[1]?.envelope.payload.reservationId);
    expect(new Set(answers.map((a) => a.envelope.causationId))).toEqual(
      new Set([command.messageId, resent.messageId]),
    );
    expect(answers[0]?.envelope.sagaId).toBe(orderId);
    expect(answers[0]?.headers[HEADERS.correlationId]).toBe(correlationId);
    await expect(stock()).resolves.toEqual({ available: 7, reserved: 3 });
    const reservation = await fetch(`${service.url}/reservations/${orderId}`);
    await expect(reservation.json()).resolves.toMatchObject({
      orderId,
      status: 'RESERVED',
      reservationId: answers[0]?.envelope.payload.reservationId,
    });
    expect(events.find((e) => e.payload.productId === productId)?.payload.available).toBe(7);
    // The reply continues the command's trace (same trace id). This service runs in-process without the
    // tracing SDK, so no span of its own is recorded here; spans per hop are proven with the SDK in
    // trace-context.spec.ts and, exported to Zipkin, in the gateway's end-to-end test.
    expect(answers[0]?.headers[HEADERS.traceparent]).toMatch(
      /^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/,
    );
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(
      Number(/saga_lab_outbox_publish_lag_seconds_count\{service="inventory"\} (\d+)/.exec(metrics)?.[1]),
    ).toBeGreaterThan(0);

    await publish(
      createEnvelope(ReleaseStock, { orderId, reason: 'test' }, { correlationId, sagaId: orderId }),
    );
    await waitUntil(() => repliesFor(orderId).some((r) => r.envelope.type === 'inventory.StockReleased'), {
      timeoutMs: 20_000,
      what: 'StockReleased',
    });
    await expect(stock()).resolves.toEqual({ available: 10, reserved: 0 });
  }, 60_000);

  it('sends a poison command to its DLQ and keeps consuming', async () => {
    const poison = createEnvelope(
      ReserveStock,
      { orderId: randomUUID(), lines: [{ productId, quantity: 1 }] },
      { correlationId },
    );
    const broken = { ...poison, payload: { orderId: poison.payload.orderId, lines: 'all of them' } };
    await producer.send({
      topic: TOPICS.inventoryCommands,
      acks: -1,
      messages: [{ key: poison.payload.orderId, value: JSON.stringify(broken) }],
    });
    const next = randomUUID();
    await publish(
      createEnvelope(
        ReserveStock,
        { orderId: next, lines: [{ productId, quantity: 1 }] },
        { correlationId, sagaId: next },
      ),
    );

    await waitUntil(() => repliesFor(next).length === 1, {
      timeoutMs: 20_000,
      what: 'the command after the poison one',
    });
    const dead = await waitUntil(
      async () =>
        (await listDeadLetters(kafka, CONSUMER_GROUP)).find((d) => d.messageId === poison.messageId),
      {
        timeoutMs: 20_000,
        what: 'the poison command in the DLQ',
      },
    );
    expect(dead.reason).toContain('invalid inventory.ReserveStock payload');
  }, 60_000);
});
