import { TOPIC_SPECS, deadLetterTopic, retryTopic, type TopicName } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { KafkaJSAggregateError, KafkaJSError, type Admin } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A topic to have, with the partitions and retention it is created with. */
export interface TopicRequest {
  readonly topic: string;
  readonly partitions: number;
  readonly retentionMs: number;
}

const DAY = 24 * 3_600_000;

/** The contract topics (all of them unless named), as libs/contracts declares them. */
export const contractTopics = (
  topics: readonly TopicName[] = Object.keys(TOPIC_SPECS) as TopicName[],
): TopicRequest[] =>
  topics.map((topic) => ({
    topic,
    partitions: TOPIC_SPECS[topic].partitions,
    retentionMs: TOPIC_SPECS[topic].retentionMs,
  }));

/** A consumer group's retry topic (kept 7 days) and dead-letter topic (kept 30 days). */
export const groupTopics = (groupId: string, partitions = 3): TopicRequest[] => [
  { topic: retryTopic(groupId), partitions, retentionMs: 7 * DAY },
  { topic: deadLetterTopic(groupId), partitions, retentionMs: 30 * DAY },
];

export interface TopicReadiness {
  /**
   * Default -1: the broker's own `default.replication.factor` (1 on the local single broker, 3 on the
   * production-shaped Kubernetes overlay, whose `min.insync.replicas` of 2 would refuse every write to a
   * topic made with one replica).
   */
  readonly replicationFactor?: number;
  /** How long to keep trying before giving up with `TopicsNotReady` (default 60 s). */
  readonly timeoutMs?: number;
  /** Backoff between attempts: doubles from `minDelayMs` up to `maxDelayMs`, with jitter. */
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
}

/** The topics could not be had in time, or the broker refused them for a reason that will not pass. */
export class TopicsNotReady extends AppError<'TOPICS_NOT_READY'> {
  constructor(message: string, cause?: unknown) {
    super('TOPICS_NOT_READY', message, { cause });
  }
}

/**
 * Whether a broker's answer may change by itself: Kafka marks its transient error codes retriable
 * (LEADER_NOT_AVAILABLE, UNKNOWN_TOPIC_OR_PARTITION, NOT_CONTROLLER…), and kafkajs marks connection
 * failures and timeouts so. TOPIC_ALREADY_EXISTS is not a failure here: another service won the race.
 */
export function isRetriableKafkaError(error: unknown): boolean {
  if (error instanceof KafkaJSAggregateError) {
    return error.errors.every((e) => isAlreadyExists(e) || isRetriableKafkaError(e));
  }
  return error instanceof KafkaJSError && error.retriable;
}

const isAlreadyExists = (error: unknown): boolean =>
  typeof error === 'object' &&
  error !== null &&
  (error as { type?: unknown }).type === 'TOPIC_ALREADY_EXISTS';

const describe = (error: unknown): string => {
  if (error instanceof KafkaJSAggregateError) {
    return error.errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
  }
  return error instanceof Error ? error.message : String(error);
};

/**
 * Makes sure every topic in `requests` exists and every one of its partitions has a leader, so that the
 * first produce or subscribe cannot meet "This server does not host this topic-partition".
 *
 * Cold start: on a just-formatted KRaft broker, creating a topic and electing its partitions' leaders
 * happen asynchronously, and several services create the same topics at once. So creation tolerates
 * TOPIC_ALREADY_EXISTS (another service was first), and readiness is judged from the metadata every
 * service reads, not from its own create call. Retriable Kafka errors are retried with backoff until
 * `timeoutMs`; anything else fails at once. Returns the topics this call created.
 */
export async function ensureTopics(
  admin: Admin,
  requests: readonly TopicRequest[],
  options: TopicReadiness = {},
): Promise<string[]> {
  const { replicationFactor = -1, timeoutMs = 60_000, minDelayMs = 100, maxDelayMs = 2_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const created = new Set<string>();
  let pending = 'no answer from the broker yet';
  for (let attempt = 0; ; attempt++) {
    try {
      const existing = new Set(await admin.listTopics());
      const missing = requests.filter((r) => !existing.has(r.topic));
      if (missing.length > 0) {
        try {
          // Leaders are awaited below for every topic, whoever created it.
          const made = await admin.createTopics({
            waitForLeaders: false,
            topics: missing.map((r) => ({
              topic: r.topic,
              numPartitions: r.partitions,
              replicationFactor,
              configEntries: [{ name: 'retention.ms', value: String(r.retentionMs) }],
            })),
          });
          if (made) missing.forEach((r) => created.add(r.topic));
        } catch (error) {
          if (!(error instanceof KafkaJSAggregateError && error.errors.every(isAlreadyExists))) throw error;
        }
      }
      const leaderless = await leaderlessPartitions(admin, requests);
      if (leaderless.length === 0) return requests.map((r) => r.topic).filter((t) => created.has(t));
      pending = `no leader yet for ${leaderless.join(', ')}`;
    } catch (error) {
      if (!isRetriableKafkaError(error)) {
        throw new TopicsNotReady(`Kafka refused the topics: ${describe(error)}.`, error);
      }
      pending = describe(error);
    }
    if (Date.now() >= deadline) {
      throw new TopicsNotReady(
        `Kafka did not make the topics ready within ${Math.round(timeoutMs / 1000)} s (${pending}).`,
      );
    }
    const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
    await sleep(Math.min(ceiling / 2 + Math.random() * (ceiling / 2), Math.max(0, deadline - Date.now())));
  }
}

/**
 * `topic[partition]` for each partition without a leader, or `topic` when the broker's metadata does
 * not list the topic yet. A topic that exists with other partition counts than requested is left as it
 * is (partitions are never changed here).
 */
async function leaderlessPartitions(admin: Admin, requests: readonly TopicRequest[]): Promise<string[]> {
  const { topics } = await admin.fetchTopicMetadata({ topics: requests.map((r) => r.topic) });
  const byName = new Map(topics.map((t) => [t.name, t.partitions]));
  return requests.flatMap(({ topic }) => {
    const partitions = byName.get(topic) ?? [];
    if (partitions.length === 0) return [topic];
    return partitions
      .filter((p) => p.leader < 0 || p.partitionErrorCode !== 0)
      .map((p) => `${topic}[${p.partitionId}]`);
  });
}
