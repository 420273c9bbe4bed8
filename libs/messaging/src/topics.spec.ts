import { TOPICS, TOPIC_SPECS } from '@saga-lab/contracts';
import { KafkaJSAggregateError, KafkaJSProtocolError, type Admin, type ITopicMetadata } from 'kafkajs';
import { TopicsNotReady, contractTopics, ensureTopics, groupTopics } from './topics';

// Kafka's own error codes, as kafkajs decodes them (`retriable` is Kafka's classification). kafkajs
// builds these from its error-code table; its typings only admit an Error, hence the one cast.
const protocolError = (
  type: string,
  code: number,
  retriable: boolean,
  message: string,
): KafkaJSProtocolError => new KafkaJSProtocolError({ type, code, retriable, message } as unknown as Error);
const unknownTopic = (): KafkaJSProtocolError =>
  protocolError('UNKNOWN_TOPIC_OR_PARTITION', 3, true, 'This server does not host this topic-partition');
const alreadyExists = (): KafkaJSProtocolError => protocolError('TOPIC_ALREADY_EXISTS', 36, false, 'exists');
const invalidConfig = (): KafkaJSProtocolError =>
  protocolError('INVALID_CONFIG', 40, false, 'Configuration is invalid');

interface Script {
  /** Topics the broker lists before any creation. */
  existing?: string[];
  /** Thrown by each createTopics call in turn (undefined = success). */
  createErrors?: (Error | undefined)[];
  /** Per metadata call: partitions without a leader, by topic (missing topic = not listed at all). */
  metadata?: ((topic: string) => 'missing' | number[])[];
}

/** A broker that answers from a script; the real broker is exercised in the integration tests. */
function scriptedAdmin(script: Script): { admin: Admin; created: unknown[]; metadataCalls: () => number } {
  const created: unknown[] = [];
  const topics = new Set(script.existing ?? []);
  let creates = 0;
  let metadataCalls = 0;
  const admin = {
    listTopics: async () => [...topics],
    createTopics: async (request: { topics: { topic: string }[] }) => {
      const error = script.createErrors?.[creates++];
      if (error) throw error;
      created.push(...request.topics);
      request.topics.forEach((t) => topics.add(t.topic));
      return true;
    },
    fetchTopicMetadata: async ({ topics: names }: { topics: string[] }) => {
      const step = script.metadata?.[Math.min(metadataCalls, (script.metadata?.length ?? 1) - 1)];
      metadataCalls++;
      const result: ITopicMetadata[] = [];
      for (const name of names) {
        const state = step?.(name) ?? [];
        if (state === 'missing') throw unknownTopic();
        result.push({
          name,
          partitions: [0, 1, 2].map((partitionId) => ({
            partitionId,
            leader: state.includes(partitionId) ? -1 : 1,
            partitionErrorCode: state.includes(partitionId) ? 5 : 0,
            replicas: [1],
            isr: [1],
            offlineReplicas: [],
          })),
        });
      }
      return { topics: result };
    },
  } as unknown as Admin;
  return { admin, created, metadataCalls: () => metadataCalls };
}

const fast = { minDelayMs: 1, maxDelayMs: 2 };

describe('ensureTopics', () => {
  it('creates only the missing topics, with their declared partitions and retention', async () => {
    const { admin, created } = scriptedAdmin({ existing: [TOPICS.orderEvents] });
    const made = await ensureTopics(admin, contractTopics([TOPICS.orderEvents, TOPICS.inventoryCommands]));
    expect(made).toEqual([TOPICS.inventoryCommands]);
    expect(created).toEqual([
      {
        topic: 'inventory.commands.v1',
        numPartitions: TOPIC_SPECS['inventory.commands.v1'].partitions,
        replicationFactor: -1,
        configEntries: [
          { name: 'retention.ms', value: String(TOPIC_SPECS['inventory.commands.v1'].retentionMs) },
        ],
      },
    ]);
  });

  it('asks for no creation when every topic exists, and still checks their leaders', async () => {
    const { admin, created, metadataCalls } = scriptedAdmin({ existing: Object.values(TOPICS) });
    await expect(ensureTopics(admin, contractTopics())).resolves.toEqual([]);
    expect(created).toEqual([]);
    expect(metadataCalls()).toBe(1);
  });

  it('waits until every partition has a leader (a just-formatted KRaft broker elects them later)', async () => {
    const { admin, metadataCalls } = scriptedAdmin({
      metadata: [() => 'missing', () => [0, 2], () => [2], () => []],
    });
    await expect(ensureTopics(admin, groupTopics('g'), fast)).resolves.toEqual(['g.retry.v1', 'g.dlq.v1']);
    expect(metadataCalls()).toBe(4);
  });

  it('takes "topic already exists" as another service winning the race, not as a failure', async () => {
    const { admin } = scriptedAdmin({
      createErrors: [new KafkaJSAggregateError('Topic creation errors', [alreadyExists()])],
    });
    await expect(ensureTopics(admin, groupTopics('g'), fast)).resolves.toEqual([]);
  });

  it('fails at once, in one sentence, on an error Kafka does not mark retriable', async () => {
    const { admin } = scriptedAdmin({
      createErrors: [new KafkaJSAggregateError('Topic creation errors', [alreadyExists(), invalidConfig()])],
    });
    const failure = ensureTopics(admin, groupTopics('g'), { ...fast, timeoutMs: 60_000 });
    await expect(failure).rejects.toThrow(TopicsNotReady);
    await expect(failure).rejects.toThrow('Kafka refused the topics: exists; Configuration is invalid.');
  });

  it('gives up after its timeout, naming the partitions that still have no leader', async () => {
    const { admin } = scriptedAdmin({ metadata: [() => [1]] });
    await expect(ensureTopics(admin, groupTopics('g'), { ...fast, timeoutMs: 30 })).rejects.toThrow(
      /within 0 s \(no leader yet for g\.retry\.v1\[1\], g\.dlq\.v1\[1\]\)\.$/,
    );
  });
});
