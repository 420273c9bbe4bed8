import { HEADERS } from '@saga-lab/contracts';
import { testKafka, uniqueName, waitUntil } from '@saga-lab/testing';
import { type Admin, type Producer } from 'kafkajs';
import { MessageConsumer, ensureTopics, groupTopics } from '../src';

/** Where a new consumer group starts reading: the `fromBeginning` option, both ways, on a real broker. */
describe('consumer: where a new group starts (real Kafka)', () => {
  const kafka = testKafka('int-consumer-start');
  const topic = uniqueName('int-start');
  let admin: Admin;
  let producer: Producer;
  const consumers: MessageConsumer[] = [];

  const send = (id: string): Promise<unknown> =>
    producer.send({
      topic,
      acks: -1,
      messages: [
        { key: 'k', value: JSON.stringify({ id }), headers: { [HEADERS.messageType]: 'test.Thing' } },
      ],
    });

  /** Starts a new group and resolves once it joined (its starting offsets are fixed from then on). */
  const startGroup = async (fromBeginning: boolean | undefined, seen: string[]): Promise<string> => {
    const groupId = uniqueName('int-start-group');
    await ensureTopics(admin, groupTopics(groupId, 1));
    const consumer = new MessageConsumer(kafka, producer, {
      groupId,
      topics: [topic],
      ...(fromBeginning === undefined ? {} : { fromBeginning }),
      handler: async (message) => {
        seen.push((message as { id: string }).id);
      },
    });
    consumers.push(consumer);
    await consumer.start();
    await consumer.joined;
    return groupId;
  };

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 1, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await send('before');
  });

  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('starts at the beginning by default and when asked, at the end when fromBeginning is false', async () => {
    const byDefault: string[] = [];
    const fromStart: string[] = [];
    const fromEnd: string[] = [];
    await startGroup(undefined, byDefault);
    await startGroup(true, fromStart);
    await startGroup(false, fromEnd);
    // A group that starts at the end fixes its offset on its first fetch, a moment after it joined: keep
    // sending probes until every group has one, then look at what each saw first.
    const gotProbe = (seen: string[]): boolean => seen.some((id) => id.startsWith('probe-'));
    await waitUntil(
      async () => {
        if ([byDefault, fromStart, fromEnd].every(gotProbe)) return true;
        await send(`probe-${Date.now()}`);
        return false;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'every group to receive a message sent after it joined' },
    );
    expect(byDefault[0]).toBe('before');
    expect(fromStart[0]).toBe('before');
    expect(fromEnd).not.toContain('before');
    expect(fromEnd.length).toBeGreaterThan(0);
  }, 60_000);
});
