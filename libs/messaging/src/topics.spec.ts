import { TOPICS, TOPIC_SPECS } from '@saga-lab/contracts';
import type { Admin } from 'kafkajs';
import { ensureTopics } from './topics';

/** Records what would be asked of the broker; the real broker is exercised in the integration tests. */
function recordingAdmin(existing: string[]): { admin: Admin; created: unknown[] } {
  const created: unknown[] = [];
  const admin = {
    listTopics: async () => existing,
    createTopics: async (request: { topics: unknown[] }) => {
      created.push(...request.topics);
      return true;
    },
  } as unknown as Admin;
  return { admin, created };
}

describe('ensureTopics', () => {
  it('creates only the missing contract topics, with their declared partitions and retention', async () => {
    const { admin, created } = recordingAdmin([TOPICS.orderEvents]);
    const made = await ensureTopics(admin, [TOPICS.orderEvents, TOPICS.inventoryCommands]);
    expect(made).toEqual([TOPICS.inventoryCommands]);
    expect(created).toEqual([
      {
        topic: 'inventory.commands.v1',
        numPartitions: TOPIC_SPECS['inventory.commands.v1'].partitions,
        replicationFactor: 1,
        configEntries: [
          { name: 'retention.ms', value: String(TOPIC_SPECS['inventory.commands.v1'].retentionMs) },
        ],
      },
    ]);
  });

  it('asks nothing of the broker when every topic exists', async () => {
    const { admin, created } = recordingAdmin(Object.values(TOPICS));
    await expect(ensureTopics(admin)).resolves.toEqual([]);
    expect(created).toEqual([]);
  });
});
