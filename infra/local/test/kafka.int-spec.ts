import { requireEnv, uniqueName } from '@saga-lab/testing';
import { Kafka, logLevel, type Admin, type Consumer, type Producer } from 'kafkajs';

describe('Kafka (KRaft, started by the stack)', () => {
  const kafka = new Kafka({
    clientId: uniqueName('int-kafka'),
    brokers: requireEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.WARN,
  });
  const topic = uniqueName('int-roundtrip');
  const groupId = uniqueName('int-group');
  let admin: Admin;
  let producer: Producer;
  let consumer: Consumer;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic, numPartitions: 3, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    // Idempotent producer: the broker de-duplicates retried batches (requires acks=all, max 5 in flight).
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    consumer = kafka.consumer({ groupId });
    await consumer.connect();
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await producer?.disconnect();
    await admin?.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin?.disconnect();
  });

  it('does not create topics on first use (auto-creation is off)', async () => {
    const missing = uniqueName('int-never-created');
    const impatient = kafka.producer({ retry: { retries: 0 } });
    await impatient.connect();
    try {
      await expect(impatient.send({ topic: missing, acks: -1, messages: [{ value: 'x' }] })).rejects.toThrow(
        /does not host this topic-partition/i,
      );
    } finally {
      await impatient.disconnect();
    }
    expect(await admin.listTopics()).not.toContain(missing);
  });

  it('delivers every message an idempotent producer wrote to a consumer group, in order per key', async () => {
    const keys = ['order-1', 'order-2', 'order-3', 'order-4'];
    const sent = keys.flatMap((key) =>
      Array.from({ length: 50 }, (_, seq) => ({ key, value: JSON.stringify({ key, seq }) })),
    );
    await producer.send({ topic, acks: -1, messages: sent });

    const received: { key: string; seq: number; partition: number }[] = [];
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          const body = JSON.parse(String(message.value)) as { key: string; seq: number };
          expect(String(message.key)).toBe(body.key);
          received.push({ ...body, partition });
          if (received.length === sent.length) resolve();
        },
      });
    });
    await done;

    expect(received).toHaveLength(sent.length);
    for (const key of keys) {
      const mine = received.filter((m) => m.key === key);
      expect(mine.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      // One key, one partition: what keeps one order's messages in order.
      expect(new Set(mine.map((m) => m.partition)).size).toBe(1);
    }
  });

  it('commits the group’s offsets after processing', async () => {
    await consumer.stop();
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(200);
  });
});

describe('Kafka’s PROXIED listener: a client that came through Toxiproxy stays behind it', () => {
  const api = requireEnv('TOXIPROXY_URL');
  const proxy = requireEnv('KAFKA_PROXIED_BROKERS'); // where the proxy listens, as the broker advertises
  const upstream = requireEnv('KAFKA_PROXIED_UPSTREAM'); // the PROXIED listener itself
  const name = uniqueName('int-kafka-proxied');
  const client = (broker: string): Kafka =>
    new Kafka({
      clientId: uniqueName('int-proxied'),
      brokers: [broker],
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1_000,
      requestTimeout: 2_000,
      retry: { retries: 1, initialRetryTime: 100 },
    });
  const setProxy = (enabled: boolean): Promise<Response> =>
    fetch(`${api}/proxies/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ enabled }),
    });

  beforeAll(async () => {
    const created = await fetch(`${api}/proxies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, listen: proxy, upstream, enabled: true }),
    });
    expect(created.status).toBe(201);
  });
  afterAll(async () => {
    await fetch(`${api}/proxies/${name}`, { method: 'DELETE' });
  });

  it('advertises the proxy’s address, not its own, to whoever connects to it', async () => {
    const admin = client(upstream).admin();
    await admin.connect();
    try {
      const { brokers } = await admin.describeCluster();
      expect(brokers.map((b) => `${b.host}:${b.port}`)).toEqual([proxy]);
    } finally {
      await admin.disconnect();
    }
  });

  it('carries produce and fetch through the proxy, and loses the broker when the proxy is cut', async () => {
    const kafka = client(proxy);
    const topic = uniqueName('int-proxied');
    const admin = kafka.admin();
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await admin.connect();
    await producer.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'through the proxy' }] });
      const [partition] = await admin.fetchTopicOffsets(topic);
      expect(partition?.high).toBe('1');

      // Metadata sent the client to the proxy, so with the proxy down it reaches no broker at all.
      expect((await setProxy(false)).status).toBe(200);
      await expect(
        producer.send({ topic, acks: -1, timeout: 1_000, messages: [{ key: 'k', value: 'cut off' }] }),
      ).rejects.toThrow();
      expect((await setProxy(true)).status).toBe(200);
      await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'back' }] });
      const [after] = await admin.fetchTopicOffsets(topic);
      expect(after?.high).toBe('2');
    } finally {
      await setProxy(true).catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect().catch(() => undefined);
    }
  }, 60_000);
});
