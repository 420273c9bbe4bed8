import { HEADERS } from '@saga-lab/contracts';
import type { Producer } from 'kafkajs';
import type { DataSource } from 'typeorm';
import { failed, messagingAttributes, startPublishSpan } from '../trace-context';
import { WorkLoop } from '../work-loop';

export interface RelayOptions {
  /** Rows claimed per transaction. */
  readonly batchSize?: number;
  /** Pause when the outbox is empty. */
  readonly idleMs?: number;
  /** Called with each published batch's publish lag (ms from commit to Kafka ack) — feeds a metric. */
  readonly onPublished?: (lagsMs: readonly number[]) => void;
  readonly onError?: (error: unknown) => void;
  /**
   * Failure-lab knob: publish every batch twice, as a relay that crashed after Kafka's ack but before its
   * commit would on restart. Consumers must show no second effect.
   */
  readonly duplicateDelivery?: boolean;
}

interface PendingRow {
  message_id: string;
  topic: string;
  message_key: string;
  envelope: Record<string, unknown>;
  headers: Record<string, string>;
  created_at: Date;
}

/**
 * Outbox relay: claims the oldest pending rows with `FOR UPDATE SKIP LOCKED` (so several relay instances
 * share the work without publishing a row twice at the same time), sends them with the idempotent
 * producer (acks=all), and marks them published in the same transaction. A crash between the Kafka ack
 * and the commit republishes the batch: delivery is at-least-once, and consumers de-duplicate by messageId.
 */
export class OutboxRelay {
  private readonly loop: WorkLoop;

  constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Producer,
    private readonly options: RelayOptions = {},
  ) {
    const idleMs = options.idleMs ?? 50;
    this.loop = new WorkLoop(async () => (await this.publishBatch()) > 0, {
      // Back to back while rows are pending; a short pause when the outbox is empty.
      pauseMs: (published) => (published ? 0 : idleMs),
      failurePauseMs: Math.min(5_000, idleMs * 20),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  }

  /** Publishes one batch; returns how many rows it published (0 = nothing pending). */
  async publishBatch(): Promise<number> {
    const batchSize = this.options.batchSize ?? 100;
    return this.dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT message_id, topic, message_key, envelope, headers, created_at
           FROM outbox
          WHERE published_at IS NULL
          ORDER BY created_at
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [batchSize],
      )) as PendingRow[];
      if (rows.length === 0) return 0;

      // Trace through the outbox: each row's publish span continues the trace the row was staged in, and
      // the message carries that span onward — one trace per order across every Kafka hop.
      const spans = rows.map((row) => ({
        row,
        ...startPublishSpan(
          row.headers,
          messagingAttributes({
            topic: row.topic,
            operation: 'publish',
            key: row.message_key,
            messageId: row.message_id,
            type: typeof row.envelope['type'] === 'string' ? row.envelope['type'] : undefined,
            sagaId: typeof row.envelope['sagaId'] === 'string' ? row.envelope['sagaId'] : undefined,
          }),
        ),
      }));
      const byTopic = new Map<string, typeof spans>();
      for (const item of spans) byTopic.set(item.row.topic, [...(byTopic.get(item.row.topic) ?? []), item]);
      const batch = {
        acks: -1,
        topicMessages: [...byTopic].map(([topic, items]) => ({
          topic,
          messages: items.map(({ row, traceparent }) => ({
            key: row.message_key,
            value: JSON.stringify(row.envelope),
            headers: { ...row.headers, ...(traceparent ? { [HEADERS.traceparent]: traceparent } : {}) },
          })),
        })),
      };
      try {
        await this.producer.sendBatch(batch);
        if (this.options.duplicateDelivery) await this.producer.sendBatch(batch);
        for (const { span } of spans) span.end();
      } catch (error) {
        for (const { span } of spans) {
          failed(span, error);
          span.end();
        }
        // Leave the rows pending (they are retried on the next pass) but record why, for operators.
        await manager.query(
          `UPDATE outbox SET attempts = attempts + 1, last_error = $2 WHERE message_id = ANY($1::uuid[])`,
          [rows.map((r) => r.message_id), String((error as Error).message ?? error).slice(0, 500)],
        );
        throw error;
      }
      const published = new Date();
      await manager.query(`UPDATE outbox SET published_at = $2 WHERE message_id = ANY($1::uuid[])`, [
        rows.map((r) => r.message_id),
        published,
      ]);
      this.options.onPublished?.(rows.map((r) => published.getTime() - new Date(r.created_at).getTime()));
      return rows.length;
    });
  }

  start(): void {
    this.loop.start();
  }

  /** Stops after the batch in flight is published and committed. */
  stop(): Promise<void> {
    return this.loop.stop();
  }
}
