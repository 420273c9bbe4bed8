import { Column, CreateDateColumn, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * Outbox: a message waiting to be published, written in the same transaction as the state change that
 * caused it. `publishedAt` null = pending. The relay sets it after Kafka acknowledged the write.
 */
@Entity({ name: 'outbox' })
@Index('outbox_pending_idx', ['createdAt'], { where: '"published_at" IS NULL' })
export class OutboxMessage {
  @PrimaryColumn('uuid', { name: 'message_id' })
  messageId!: string;

  @Column('text')
  topic!: string;

  @Column('text', { name: 'message_key' })
  key!: string;

  @Column('text')
  type!: string;

  /** The whole envelope, as it goes on the wire. */
  @Column('jsonb')
  envelope!: Record<string, unknown>;

  /** Kafka headers (trace context, correlation id, message type). */
  @Column('jsonb')
  headers!: Record<string, string>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column('timestamptz', { name: 'published_at', nullable: true })
  publishedAt!: Date | null;

  @Column('int', { default: 0 })
  attempts!: number;

  @Column('text', { name: 'last_error', nullable: true })
  lastError!: string | null;
}
