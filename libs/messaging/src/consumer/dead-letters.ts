import { HEADERS, deadLetterTopic } from '@saga-lab/contracts';
import type { Kafka, Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { headersOf } from './consumer';

export interface DeadLetter {
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly originalTopic: string;
  readonly reason: string;
  readonly attempts: number;
  readonly type: string | null;
  readonly messageId: string | null;
  readonly value: string;
  readonly headers: Readonly<Record<string, string>>;
}

function toDeadLetter(
  partition: number,
  message: {
    offset: string;
    key: Buffer | null;
    value: Buffer | null;
    headers?: Parameters<typeof headersOf>[0];
  },
): DeadLetter {
  const headers = headersOf(message.headers);
  const value = message.value?.toString() ?? '';
  let messageId: string | null = null;
  let bodyType: string | null = null;
  try {
    const parsed = JSON.parse(value) as { messageId?: unknown; type?: unknown };
    messageId = typeof parsed.messageId === 'string' ? parsed.messageId : null;
    bodyType = typeof parsed.type === 'string' ? parsed.type : null;
  } catch {
    // an unparseable message has no id; it is still listed and replayable
  }
  return {
    partition,
    offset: message.offset,
    key: message.key?.toString() ?? null,
    originalTopic: headers[HEADERS.originalTopic] ?? '',
    reason: headers[HEADERS.failureReason] ?? '',
    attempts: Number(headers[HEADERS.attempt] ?? '1'),
    type: headers[HEADERS.messageType] ?? bodyType,
    messageId,
    value,
    headers,
  };
}

/**
 * Reads a group's DLQ from `readerGroup`'s committed position (or the beginning) up to the end as it is
 * now, calling `each` in order. Returns once every partition is caught up.
 */
async function drain(
  kafka: Kafka,
  group: string,
  readerGroup: string,
  each: (entry: DeadLetter) => Promise<void>,
): Promise<void> {
  const topic = deadLetterTopic(group);
  const admin = kafka.admin();
  await admin.connect();
  const remaining = new Map<number, bigint>();
  try {
    const ends = await admin.fetchTopicOffsets(topic);
    const committed =
      (await admin.fetchOffsets({ groupId: readerGroup, topics: [topic] }))[0]?.partitions ?? [];
    for (const { partition, high, low } of ends) {
      const position = committed.find((c) => c.partition === partition)?.offset ?? '-1';
      const start = position === '-1' ? BigInt(low) : BigInt(position);
      // A partition is done once the reader's position reaches the end captured here.
      if (start < BigInt(high)) remaining.set(partition, BigInt(high));
    }
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: readerGroup, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    if (remaining.size === 0) return;
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = remaining.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            await each(toDeadLetter(partition, message));
            await consumer.commitOffsets([
              { topic, partition, offset: (BigInt(message.offset) + 1n).toString() },
            ]);
            if (BigInt(message.offset) + 1n >= end) remaining.delete(partition);
            if (remaining.size === 0) resolve();
          },
        })
        .catch(reject);
    });
    await done;
  } finally {
    await consumer.disconnect();
  }
}

/** Everything in a group's DLQ, oldest first per partition. Reads with a throwaway group; changes nothing. */
export async function listDeadLetters(kafka: Kafka, group: string): Promise<DeadLetter[]> {
  const entries: DeadLetter[] = [];
  await drain(kafka, group, `${group}.dlq-list.${randomUUID()}`, async (entry) => void entries.push(entry));
  return entries;
}

/**
 * Re-publishes dead letters to the topic they first failed on, with their attempt count reset, once the
 * cause is fixed. Uses the group `<group>.dlq-replay`, so each entry is replayed at most once however
 * often this runs; `select` can skip entries (they are then passed over for good). Returns the replayed.
 */
export async function replayDeadLetters(
  kafka: Kafka,
  producer: Producer,
  group: string,
  select: (entry: DeadLetter) => boolean = () => true,
): Promise<DeadLetter[]> {
  const replayed: DeadLetter[] = [];
  await drain(kafka, group, `${group}.dlq-replay`, async (entry) => {
    if (!select(entry) || !entry.originalTopic) return;
    const headers = { ...entry.headers };
    delete headers[HEADERS.failureReason];
    delete headers[HEADERS.notBefore];
    delete headers[HEADERS.originalTopic];
    headers[HEADERS.attempt] = '1';
    await producer.send({
      topic: entry.originalTopic,
      acks: -1,
      messages: [{ key: entry.key, value: entry.value, headers }],
    });
    replayed.push(entry);
  });
  return replayed;
}
