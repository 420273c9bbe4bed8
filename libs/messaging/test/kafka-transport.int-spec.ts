import 'reflect-metadata';
import { Controller, Module } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ReleaseStock, ReserveStock, createEnvelope, type EnvelopeOf } from '@saga-lab/contracts';
import { testKafka, uniqueName, untilConsuming, waitUntil } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { KafkaDeliveryContext, listDeadLetters } from '../src';
import { transportUnderTest, type TransportUnderTest } from './transport-under-test';

type Reserve = EnvelopeOf<{ orderId: string; lines: { productId: string; quantity: number }[] }>;
const seen: { orderId: string; attempt: number }[] = [];
let failOnce = new Set<string>();

@Controller()
class StockHandlers {
  @EventPattern(ReserveStock.type)
  async reserve(@Payload() message: Reserve, @Ctx() context: KafkaDeliveryContext): Promise<void> {
    const { orderId } = message.payload;
    if (failOnce.delete(orderId))
      throw Object.assign(new Error('could not serialize access due to concurrent update'), {
        code: '40001',
      });
    seen.push({ orderId, attempt: context.delivery.attempt });
  }
}

@Module({ controllers: [StockHandlers] })
class StockModule {}

describe('KafkaTransport: NestJS @EventPattern handlers over libs/messaging (real Kafka)', () => {
  const kafka = testKafka('int-transport');
  const groupId = uniqueName('int-inventory');
  const correlationId = uniqueName('corr');
  let transport: TransportUnderTest;
  const publish = (value: unknown, key: string): Promise<unknown> => transport.publish(value, key);

  beforeAll(async () => {
    transport = await transportUnderTest(kafka, StockModule, groupId, {
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
    });
    // The group starts at the end of the shared topic: the test's own messages go out once a probe came through.
    await untilConsuming(
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
        return probe;
      },
      (probe) => seen.some((s) => s.orderId === probe),
    );
  }, 60_000);

  afterAll(() => transport?.close());

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
