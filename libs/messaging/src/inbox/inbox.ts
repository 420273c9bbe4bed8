import type { EntityManager } from 'typeorm';

/**
 * Idempotent consumer: records (group, messageId) in the inbox inside the caller's transaction, and runs
 * the effect only if the message was not processed before. The insert and the effect commit together, so
 * a redelivery after a crash either finds the row (effect committed) or re-runs both (nothing committed).
 * Returns false for a duplicate.
 */
export async function processOnce(
  manager: EntityManager,
  consumerGroup: string,
  messageId: string,
  effect: () => Promise<void>,
): Promise<boolean> {
  if (!manager.queryRunner?.isTransactionActive) {
    throw new Error('inbox: processOnce must run inside the transaction that holds the effect');
  }
  const inserted = (await manager.query(
    `INSERT INTO inbox (consumer_group, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id`,
    [consumerGroup, messageId],
  )) as unknown[];
  if (inserted.length === 0) return false;
  await effect();
  return true;
}
