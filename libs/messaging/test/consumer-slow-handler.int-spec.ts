import { HEADERS, deadLetterTopic } from '@saga-lab/contracts';
import { testKafka, uniqueName, waitUntil } from '@saga-lab/testing';
import { type Admin, type Producer } from 'kafkajs';
import { MessageConsumer, ensureTopics, groupTopics } from '../src';

/**
 * A handler slower than the group's session timeout (10 s) — a payment compensation making two provider
 * calls under a slow provider — must not get its member evicted mid-message: evicted, its commit fails,
 * the message is handled again from the last committed offset, just as slowly, and the partition never
 * moves on.
 */
describe('consumer: a handler slower than the session timeout (real Kafka)', () => {
  const kafka = testKafka('int-consumer-slow');
  const topic = uniqueName('int-slow');
  const groupId = uniqueName('int-slow-svc');
  let admin: Admin;
  let producer: Producer;
  let consumer: MessageConsumer;
  const handled: string[] = [];

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await ensureTopics(admin, groupTopics(groupId, 1));
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = new MessageConsumer(kafka, producer, {
      groupId,
      topics: [topic],
      handler: async (message: unknown) => {
        const { id, ms } = message as { id: string; ms: number };
        handled.push(id);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
    });
    await consumer.start();
    await consumer.joined;
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.disconnect();
    await admin
      ?.deleteTopics({ topics: [topic, `${groupId}.retry.v1`, deadLetterTopic(groupId)] })
      .catch(() => undefined);
    await admin?.disconnect();
  });

  it('heartbeats while the handler runs: the slow message is handled once and the next one follows', async () => {
    await producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: 'k',
          value: JSON.stringify({ id: 'slow', ms: 14_000 }),
          headers: { [HEADERS.messageType]: 'test.Slow' },
        },
        {
          key: 'k',
          value: JSON.stringify({ id: 'next', ms: 0 }),
          headers: { [HEADERS.messageType]: 'test.Next' },
        },
      ],
    });
    await waitUntil(async () => (handled.includes('next') ? true : undefined), {
      timeoutMs: 45_000,
      what: 'the message behind the slow one to be handled',
    });
    expect(handled).toEqual(['slow', 'next']);
  }, 60_000);
});
