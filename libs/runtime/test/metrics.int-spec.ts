import { HEADERS, deadLetterTopic } from '@saga-lab/contracts';
import {
  ensureTopics,
  groupTopics,
  messagingEntities,
  messagingMigrations,
  replayDeadLetters,
} from '@saga-lab/messaging';
import { ServiceMetrics } from '@saga-lab/observability';
import { requireEnv, schemaDataSource, seriesValue, testKafka, uniqueName } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { registerServiceGauges } from '../src/metrics';

const sample = async (
  metrics: ServiceMetrics,
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> => seriesValue(await metrics.registry.metrics(), name, labels);

describe('service gauges read on scrape (real Kafka, PostgreSQL)', () => {
  const { dataSource, schema } = schemaDataSource(requireEnv('ORDER_DATABASE_URL'), 'gauges', {
    entities: messagingEntities,
    migrations: messagingMigrations,
    poolSize: 3,
  });
  const kafka = testKafka('int-gauges');
  const group = uniqueName('int-gauges');
  const topic = uniqueName('int-gauges-source');
  const admin = kafka.admin();
  const producer = kafka.producer();
  const metrics = new ServiceMetrics('gauges-test');

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    await admin.connect();
    await producer.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await ensureTopics(admin, groupTopics(group, 1));
    registerServiceGauges(metrics, { dataSource, admin, group, topics: () => [topic] });
  }, 60_000);

  afterAll(async () => {
    await producer.disconnect();
    await admin
      .deleteTopics({ topics: [topic, ...groupTopics(group, 1).map((t) => t.topic)] })
      .catch(() => undefined);
    await admin.disconnect();
    await dataSource.destroy();
    await schema.drop();
  });

  it('reports the outbox rows not yet published', async () => {
    expect(await sample(metrics, 'saga_lab_outbox_backlog')).toBe(0);
    await dataSource.query(
      `INSERT INTO outbox (message_id, topic, message_key, type, envelope, headers) VALUES ($1, 't', 'k', 'x', '{}', '{}')`,
      [randomUUID()],
    );
    expect(await sample(metrics, 'saga_lab_outbox_backlog')).toBe(1);
  });

  it('reports the lag of a group that does not consume, and none once it committed', async () => {
    await producer.send({ topic, messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    const lag = (): Promise<number | undefined> =>
      sample(metrics, 'saga_lab_kafka_consumer_lag', { group, topic, partition: '0' });
    expect(await lag()).toBe(3);
    await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '3' }] });
    expect(await lag()).toBe(0);
  });

  it('reports dead letters until they are replayed', async () => {
    const depth = (): Promise<number | undefined> => sample(metrics, 'saga_lab_dlq_depth', { group });
    expect(await depth()).toBe(0);
    await producer.send({
      topic: deadLetterTopic(group),
      messages: [
        {
          value: JSON.stringify({ messageId: randomUUID(), type: 'test.Thing' }),
          headers: {
            [HEADERS.originalTopic]: topic,
            [HEADERS.failureReason]: 'test',
            [HEADERS.attempt]: '1',
          },
        },
      ],
    });
    expect(await depth()).toBe(1);
    expect(await replayDeadLetters(kafka, producer, group)).toHaveLength(1);
    expect(await depth()).toBe(0);
  }, 60_000);

  it('reports the database pool by state: a connection held shows as in use', async () => {
    const held = dataSource.createQueryRunner();
    await held.connect();
    try {
      expect(
        await sample(metrics, 'saga_lab_db_pool_connections', { state: 'in_use' }),
      ).toBeGreaterThanOrEqual(1);
      expect(
        await sample(metrics, 'saga_lab_db_pool_connections', { state: 'waiting' }),
      ).toBeGreaterThanOrEqual(0);
      expect(await sample(metrics, 'saga_lab_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(
        0,
      );
    } finally {
      await held.release();
    }
  });
});
