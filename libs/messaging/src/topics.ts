import { TOPIC_SPECS, deadLetterTopic, retryTopic, type TopicName } from '@saga-lab/contracts';
import type { Admin } from 'kafkajs';

/**
 * Creates the contract topics that do not exist yet, with the partitions and retention the contracts
 * declare. Safe to call from every service at start-up (creation is idempotent; a topic that exists is
 * left as it is). Returns the topics it created.
 */
export async function ensureTopics(
  admin: Admin,
  topics: readonly TopicName[] = Object.keys(TOPIC_SPECS) as TopicName[],
  replicationFactor = 1,
): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topics.filter((topic) => !existing.has(topic));
  if (missing.length === 0) return [];
  await admin.createTopics({
    waitForLeaders: true,
    topics: missing.map((topic) => ({
      topic,
      numPartitions: TOPIC_SPECS[topic].partitions,
      replicationFactor,
      configEntries: [{ name: 'retention.ms', value: String(TOPIC_SPECS[topic].retentionMs) }],
    })),
  });
  return missing;
}

/** Creates a consumer group's retry and dead-letter topics if missing. DLQ entries are kept for 30 days. */
export async function ensureGroupTopics(
  admin: Admin,
  groupId: string,
  partitions = 3,
  replicationFactor = 1,
): Promise<string[]> {
  const wanted = [
    { topic: retryTopic(groupId), retentionMs: 7 * 24 * 3_600_000 },
    { topic: deadLetterTopic(groupId), retentionMs: 30 * 24 * 3_600_000 },
  ];
  const existing = new Set(await admin.listTopics());
  const missing = wanted.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map(({ topic, retentionMs }) => ({
        topic,
        numPartitions: partitions,
        replicationFactor,
        configEntries: [{ name: 'retention.ms', value: String(retentionMs) }],
      })),
    });
  }
  return missing.map((t) => t.topic);
}
