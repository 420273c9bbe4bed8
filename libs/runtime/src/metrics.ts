import { deadLetterTopic } from '@saga-lab/contracts';
import type { ServiceMetrics } from '@saga-lab/observability';
import type { Admin } from 'kafkajs';
import { Gauge } from 'prom-client';
import type { DataSource } from 'typeorm';

/** The pg pool behind TypeORM's PostgreSQL driver: its counts are what the pool gauges report. */
interface PgPool {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
}

/** Lag per partition: the partition's end minus what the group committed (its start when nothing was). */
export function partitionLag(high: string, low: string, committed: string): number {
  const end = Number(high);
  const from = Number(committed) >= 0 ? Number(committed) : Number(low);
  return Math.max(0, end - from);
}

/**
 * Gauges a saga service reports about the state it shares with its instances — outbox rows not yet
 * published, its consumer group's lag, its DLQ entries not yet replayed — and about its own pool. They
 * are read when Prometheus scrapes (a query or an admin call per scrape, every few seconds), so they are
 * never stale; a read that fails leaves the gauge out of that scrape rather than failing `/metrics`.
 */
export function registerServiceGauges(
  metrics: ServiceMetrics,
  source: {
    readonly dataSource: DataSource;
    readonly admin: Admin;
    readonly group: string;
    /** The topics the group consumes (its retry topic included). */
    topics(): readonly string[];
  },
): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'saga_lab_outbox_backlog',
    help: 'Outbox rows committed but not yet published to Kafka',
    registers,
    async collect() {
      const rows = (await source.dataSource
        .query('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL')
        .catch(() => undefined)) as { n: number }[] | undefined;
      if (rows?.[0]) this.set(rows[0].n);
    },
  });
  new Gauge({
    name: 'saga_lab_kafka_consumer_lag',
    help: 'Messages a consumer group has not processed yet, per topic and partition',
    labelNames: ['group', 'topic', 'partition'] as const,
    registers,
    async collect() {
      this.reset();
      const topics = [...source.topics()];
      if (topics.length === 0) return;
      try {
        const committed = await source.admin.fetchOffsets({ groupId: source.group, topics });
        for (const { topic, partitions } of committed) {
          const ends = await source.admin.fetchTopicOffsets(topic);
          for (const end of ends) {
            const offset = partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
            this.set(
              { group: source.group, topic, partition: String(end.partition) },
              partitionLag(end.high, end.low, offset),
            );
          }
        }
      } catch {
        // broker unreachable: no lag reported this scrape
      }
    },
  });
  new Gauge({
    name: 'saga_lab_dlq_depth',
    help: "Entries in a consumer group's dead-letter topic not yet replayed",
    labelNames: ['group'] as const,
    registers,
    async collect() {
      const topic = deadLetterTopic(source.group);
      try {
        // Replaying reads with the group `<group>.dlq-replay`: what it has not read is still waiting.
        const [replayed] = await source.admin.fetchOffsets({
          groupId: `${source.group}.dlq-replay`,
          topics: [topic],
        });
        const ends = await source.admin.fetchTopicOffsets(topic);
        const depth = ends.reduce((sum, end) => {
          const offset = replayed?.partitions.find((p) => p.partition === end.partition)?.offset ?? '-1';
          return sum + partitionLag(end.high, end.low, offset);
        }, 0);
        this.set({ group: source.group }, depth);
      } catch {
        // broker unreachable
      }
    },
  });
  const pool = (): PgPool | undefined => (source.dataSource.driver as unknown as { master?: PgPool }).master;
  new Gauge({
    name: 'saga_lab_db_pool_connections',
    help: 'Database pool connections by state: in use, idle, and requests waiting for one',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const p = pool();
      if (!p) return;
      this.set({ state: 'in_use' }, p.totalCount - p.idleCount);
      this.set({ state: 'idle' }, p.idleCount);
      this.set({ state: 'waiting' }, p.waitingCount);
    },
  });
}
