import { CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/**
 * Inbox: one row per (consumer group, message id) already processed. Inserted in the same transaction as
 * the handler's effect, so a redelivered message finds its row and has no second effect.
 */
@Entity({ name: 'inbox' })
export class InboxRecord {
  @PrimaryColumn('text', { name: 'consumer_group' })
  consumerGroup!: string;

  @PrimaryColumn('uuid', { name: 'message_id' })
  messageId!: string;

  @CreateDateColumn({ name: 'processed_at', type: 'timestamptz' })
  processedAt!: Date;
}
