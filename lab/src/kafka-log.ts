import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

/** One message as it was published: what the checker compares with the databases. */
export interface LoggedMessage {
  readonly topic: string;
  readonly messageId: string;
  readonly type: string;
  readonly causationId: string | null;
  readonly payload: Record<string, unknown>;
}

/**
 * Reads what was published to these topics since `sinceMs` (by the broker's timestamps), up to each
 * partition's end as it was when the read began. Kafka is the record of what was emitted: the checker
 * needs it to tell "committed but never sent" and "sent but never committed" apart from the databases.
 * A throwaway consumer group is used (kafkajs has no group-less reader) and deleted afterwards.
 */
export async function readTopics(
  brokers: readonly string[],
  topics: readonly string[],
  sinceMs: number,
): Promise<LoggedMessage[]> {
  const kafka = new Kafka({
    clientId: 'saga-lab-checker',
    brokers: [...brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `saga-lab-checker-${randomUUID()}`;
  const ranges = new Map<string, { start: bigint; end: bigint }>();
  try {
    for (const topic of topics) {
      const ends = await admin.fetchTopicOffsets(topic);
      const starts = await admin.fetchTopicOffsetsByTimestamp(topic, sinceMs);
      for (const { partition, high } of ends) {
        const found = starts.find((s) => s.partition === partition)?.offset;
        const start = found === undefined || found === '-1' ? BigInt(high) : BigInt(found);
        if (start < BigInt(high)) ranges.set(`${topic}/${partition}`, { start, end: BigInt(high) });
      }
    }
    if (ranges.size === 0) return [];
    const messages: LoggedMessage[] = [];
    const consumer = kafka.consumer({ groupId, sessionTimeout: 10_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topics: [...topics], fromBeginning: true });
      const pending = new Set(ranges.keys());
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`reading ${topics.join(', ')} did not finish within 60 s`)),
          60_000,
        );
        const seeked = new Set<string>();
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const id = `${batch.topic}/${batch.partition}`;
              const range = ranges.get(id);
              if (!range || !pending.has(id)) return;
              for (const message of batch.messages) {
                const offset = BigInt(message.offset);
                if (offset < range.start || offset >= range.end) continue;
                const parsed = parse(batch.topic, message.value);
                if (parsed) messages.push(parsed);
              }
              const last = BigInt(batch.messages.at(-1)?.offset ?? '-1');
              if (last + 1n >= range.end) pending.delete(id);
              if (pending.size === 0) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
        consumer.on(consumer.events.GROUP_JOIN, () => {
          for (const [id, range] of ranges) {
            if (seeked.has(id)) continue;
            seeked.add(id);
            const [topic, partition] = splitId(id);
            consumer.seek({ topic, partition, offset: range.start.toString() });
          }
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return messages;
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
}

const splitId = (id: string): [string, number] => {
  const at = id.lastIndexOf('/');
  return [id.slice(0, at), Number(id.slice(at + 1))];
};

function parse(topic: string, value: Buffer | null): LoggedMessage | undefined {
  if (!value) return undefined;
  try {
    const envelope = JSON.parse(value.toString('utf8')) as {
      messageId?: string;
      type?: string;
      causationId?: string | null;
      payload?: Record<string, unknown>;
    };
    if (!envelope.messageId || !envelope.type || !envelope.payload) return undefined;
    return {
      topic,
      messageId: envelope.messageId,
      type: envelope.type,
      causationId: envelope.causationId ?? null,
      payload: envelope.payload,
    };
  } catch {
    return undefined; // not an envelope: not ours to judge
  }
}
