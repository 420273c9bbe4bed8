import { HEADERS, deadLetterTopic } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { testKafka, uniqueName, waitUntil } from '@saga-lab/testing';
import { type Admin, type Producer } from 'kafkajs';
import {
  MessageConsumer,
  ensureTopics,
  groupTopics,
  listDeadLetters,
  replayDeadLetters,
  type Delivery,
} from '../src';

describe('consumer: retries, DLQ and replay (real Kafka)', () => {
  const kafka = testKafka('int-consumer');
  const topic = uniqueName('int-source');
  const groupId = uniqueName('int-svc');
  let admin: Admin;
  let producer: Producer;
  let consumer: MessageConsumer;
  const handled: { id: string; attempt: number; topic: string }[] = [];
  const attemptsSeen = new Map<string, number>();
  let brokenUntilFixed = true;

  const send = (messages: { key: string; value: string }[]): Promise<unknown> =>
    producer.send({
      topic,
      acks: -1,
      messages: messages.map((m) => ({ ...m, headers: { [HEADERS.messageType]: 'test.Thing' } })),
    });

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 2, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    await ensureTopics(admin, groupTopics(groupId, 2));
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = new MessageConsumer(kafka, producer, {
      groupId,
      topics: [topic],
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
      handler: async (message: unknown, delivery: Delivery) => {
        const { id, behaviour } = message as { id: string; behaviour: string };
        attemptsSeen.set(id, delivery.attempt);
        // As pg reports a lock timeout: transient by its SQLSTATE, with no error class of ours around it.
        if (behaviour === 'flaky' && delivery.attempt < 3)
          throw Object.assign(new Error('lock timeout'), { code: '55P03' });
        if (behaviour === 'always-fails')
          throw new AppError('DOWNSTREAM_UNAVAILABLE', 'downstream unavailable', { retriable: true });
        if (behaviour === 'bug') throw new TypeError("Cannot read properties of undefined (reading 'sku')");
        if (behaviour === 'needs-fix' && brokenUntilFixed)
          throw new AppError('UNKNOWN_PRODUCT', 'unknown product');
        if (behaviour === 'unclassified') throw new Error('invariant broken');
        handled.push({ id, attempt: delivery.attempt, topic: delivery.topic });
      },
    });
    await consumer.start();
  });

  afterAll(async () => {
    await consumer?.stop();
    await producer?.disconnect();
    await admin
      ?.deleteTopics({ topics: [topic, `${groupId}.retry.v1`, deadLetterTopic(groupId)] })
      .catch(() => undefined);
    await admin?.disconnect();
  });

  it('routes each failure by kind and keeps consuming behind a poison message', async () => {
    await send([
      { key: 'a', value: 'this is not json {' },
      { key: 'a', value: JSON.stringify({ id: 'after-poison', behaviour: 'ok' }) },
      { key: 'b', value: JSON.stringify({ id: 'flaky', behaviour: 'flaky' }) },
      { key: 'b', value: JSON.stringify({ id: 'always-fails', behaviour: 'always-fails' }) },
      { key: 'a', value: JSON.stringify({ id: 'bug', behaviour: 'bug' }) },
      { key: 'a', value: JSON.stringify({ id: 'needs-fix', behaviour: 'needs-fix' }) },
      { key: 'b', value: JSON.stringify({ id: 'unclassified', behaviour: 'unclassified' }) },
    ]);

    await waitUntil(() => handled.some((h) => h.id === 'flaky'), {
      timeoutMs: 20_000,
      what: 'the flaky message to succeed on a retry',
    });
    expect(handled.find((h) => h.id === 'after-poison')).toMatchObject({ attempt: 1, topic });
    expect(handled.find((h) => h.id === 'flaky')).toMatchObject({ attempt: 3, topic: `${groupId}.retry.v1` });

    const dead = await waitUntil(
      async () => {
        const entries = await listDeadLetters(kafka, groupId);
        return entries.length >= 5 ? entries : undefined;
      },
      { timeoutMs: 20_000, what: 'five dead letters' },
    );
    const byReason = (needle: string) => dead.find((d) => d.reason.includes(needle));
    expect(byReason('unparseable message')).toMatchObject({
      attempts: 1,
      originalTopic: topic,
      value: 'this is not json {',
      messageId: null,
    });
    // A retriable failure uses up its attempts first; a programmer error, a non-retriable one and one that
    // does not say (taken for a programmer error) go straight to the DLQ.
    expect(byReason('downstream unavailable')).toMatchObject({ attempts: 3, originalTopic: topic });
    expect(byReason('TypeError')).toMatchObject({ attempts: 1 });
    expect(byReason('invariant broken')).toMatchObject({ attempts: 1 });
    expect(byReason('unknown product')).toMatchObject({ attempts: 1, type: 'test.Thing' });
    expect(byReason('unknown product')?.headers[HEADERS.messageType]).toBe('test.Thing');
  }, 60_000);

  it('replays dead letters once the cause is fixed, and each entry only once', async () => {
    brokenUntilFixed = false;
    const replayed = await replayDeadLetters(kafka, producer, groupId, (entry) =>
      entry.reason.includes('unknown product'),
    );
    expect(replayed).toHaveLength(1);
    await waitUntil(() => handled.some((h) => h.id === 'needs-fix'), {
      timeoutMs: 20_000,
      what: 'the replayed message to be handled',
    });
    expect(handled.find((h) => h.id === 'needs-fix')).toMatchObject({ attempt: 1, topic });

    await expect(replayDeadLetters(kafka, producer, groupId)).resolves.toEqual([]);
    expect(handled.filter((h) => h.id === 'needs-fix')).toHaveLength(1);
  }, 60_000);
});
