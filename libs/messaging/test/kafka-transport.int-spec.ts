import 'reflect-metadata';
import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ReleaseStock, ReserveStock, TOPICS, createEnvelope, type EnvelopeOf } from '@saga-lab/contracts';
import { testKafka, uniqueName, waitUntil } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { type Admin, type Producer } from 'kafkajs';
import {
  KafkaDeliveryContext,
  KafkaTransport,
  RethrowToTransport,
  contractTopics,
  ensureTopics,
  groupTopics,
  listDeadLetters,
} from '../src';

type Reserve = EnvelopeOf<{ orderId: string; lines: { productId: string; quantity: number }[] }>;
const seen: { orderId: string; attempt: number }[] = [];
let failOnce = new Set<string>();

@Controller()
class StockHandlers {
  @EventPattern(ReserveStock.type)
  async reserve(@Payload() message: Reserve, @Ctx() context: KafkaDeliveryContext): Promise<void> {
    const { orderId } = message.payload;
    if (failOnce.delete(orderId))
      throw Object.assign(new Error('serialization failure'), { retriable: true });
    seen.push({ orderId, attempt: context.delivery.attempt });
  }
}

@Module({ controllers: [StockHandlers] })
class StockModule {}

describe('KafkaTransport: NestJS @EventPattern handlers over libs/messaging (real Kafka)', () => {
  const kafka = testKafka('int-transport');
  const groupId = uniqueName('int-inventory');
  const correlationId = uniqueName('corr');
  let admin: Admin;
  let producer: Producer;
  let app: INestMicroservice;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await ensureTopics(admin, [...contractTopics([TOPICS.inventoryCommands]), ...groupTopics(groupId)]);
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    app = await NestFactory.createMicroservice(StockModule, {
      strategy: new KafkaTransport({
        fromBeginning: false,
        kafka,
        producer,
        groupId,
        retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      }),
      logger: false,
    });
    app.useGlobalFilters(new RethrowToTransport());
    await app.listen();
    // The group starts at the end of the shared topic: probe until a fresh command comes through, so the
    // test's own messages are published after the consumer's position is fixed.
    await waitUntil(
      async () => {
        const probe = randomUUID();
        await publish(
          createEnvelope(
            ReserveStock,
            { orderId: probe, lines: [{ productId: 'tea', quantity: 1 }] },
            { correlationId },
          ),
          probe,
        );
        return waitUntil(() => seen.some((s) => s.orderId === probe), {
          timeoutMs: 2_000,
          intervalMs: 50,
        }).then(
          () => true,
          () => false,
        );
      },
      { timeoutMs: 30_000, intervalMs: 0, what: 'the consumer to receive a probe' },
    );
  }, 60_000);

  afterAll(async () => {
    await app?.close();
    await producer?.disconnect();
    await admin
      ?.deleteTopics({ topics: [`${groupId}.retry.v1`, `${groupId}.dlq.v1`] })
      .catch(() => undefined);
    await admin?.disconnect();
  });

  const publish = (value: unknown, key: string): Promise<unknown> =>
    producer.send({
      topic: TOPICS.inventoryCommands,
      acks: -1,
      messages: [{ key, value: JSON.stringify(value) }],
    });

  it('hands a valid command to its @EventPattern handler; a retriable failure is retried', async () => {
    const first = randomUUID();
    const second = randomUUID();
    failOnce = new Set([second]);
    for (const orderId of [first, second]) {
      await publish(
        createEnvelope(
          ReserveStock,
          { orderId, lines: [{ productId: 'tea', quantity: 1 }] },
          { correlationId },
        ),
        orderId,
      );
    }
    await waitUntil(() => seen.some((s) => s.orderId === first) && seen.some((s) => s.orderId === second), {
      timeoutMs: 30_000,
      what: 'both commands to be handled',
    });
    expect(seen.find((s) => s.orderId === first)).toEqual({ orderId: first, attempt: 1 });
    expect(seen.find((s) => s.orderId === second)).toEqual({ orderId: second, attempt: 2 });
  }, 40_000);

  it('sends a message that breaks its contract to the DLQ with the reason, before any handler runs', async () => {
    const orderId = randomUUID();
    const bad = {
      ...createEnvelope(
        ReserveStock,
        { orderId, lines: [{ productId: 'tea', quantity: 1 }] },
        { correlationId },
      ),
    };
    bad.payload = { orderId, lines: [{ productId: 'tea', quantity: -3 }] };
    await publish(bad, orderId);
    const dead = await waitUntil(
      async () => (await listDeadLetters(kafka, groupId)).find((d) => d.messageId === bad.messageId),
      { timeoutMs: 20_000, what: 'the invalid command in the DLQ' },
    );
    expect(dead.reason).toMatch(/ContractViolation: invalid inventory.ReserveStock payload/);
    expect(seen.some((s) => s.orderId === orderId)).toBe(false);
  }, 30_000);

  it('passes over types it has no handler for (another consumer of the topic handles them)', async () => {
    const orderId = randomUUID();
    await publish(createEnvelope(ReleaseStock, { orderId, reason: 'test' }, { correlationId }), orderId);
    const marker = randomUUID();
    await publish(
      createEnvelope(
        ReserveStock,
        { orderId: marker, lines: [{ productId: 'tea', quantity: 1 }] },
        { correlationId },
      ),
      orderId,
    );
    await waitUntil(() => seen.some((s) => s.orderId === marker), {
      timeoutMs: 20_000,
      what: 'the marker after the unhandled type',
    });
    const dead = await listDeadLetters(kafka, groupId);
    expect(dead.some((d) => d.value.includes(ReleaseStock.type))).toBe(false);
  }, 30_000);
});
