import type { Producer } from 'kafkajs';
import type { DataSource, QueryRunner } from 'typeorm';
import { DirectPublish, type DirectMessage } from './direct-publish';

type Batch = Parameters<Producer['sendBatch']>[0];

/** A data source as DirectPublish sees it (its subscribers), a producer that records, one connection. */
function setUp(
  fail?: Error,
  holdBack = false,
): {
  dataSource: DataSource;
  direct: DirectPublish;
  batches: Batch[];
  lost: { error: unknown; messages: readonly DirectMessage[] }[];
  runner: QueryRunner;
  event: { queryRunner: QueryRunner };
} {
  const dataSource = { subscribers: [] } as unknown as DataSource;
  const batches: Batch[] = [];
  const lost: { error: unknown; messages: readonly DirectMessage[] }[] = [];
  const producer = {
    sendBatch: async (batch: Batch) => {
      if (fail) throw fail;
      batches.push(batch);
      return [];
    },
  };
  const direct = DirectPublish.install(dataSource, producer, {
    onLost: (error, messages) => lost.push({ error, messages }),
    holdBack,
  });
  const runner = {} as QueryRunner;
  return { dataSource, direct, batches, lost, runner, event: { queryRunner: runner } as never };
}

const message = (messageId: string, topic = 'order.events.v1'): DirectMessage => ({
  messageId,
  topic,
  key: `key-${messageId}`,
  type: 'order.OrderConfirmed',
  envelope: { messageId },
  headers: { 'x-message-type': 'order.OrderConfirmed' },
});

const publishedIds = (batches: Batch[]): string[] =>
  batches.flatMap((b) =>
    b.topicMessages?.flatMap((t) =>
      t.messages.map((m) => (JSON.parse(String(m.value)) as DirectMessage).messageId),
    ),
  ) as string[];

describe('DirectPublish: the failure lab’s outbox off (dual write)', () => {
  it('is found on the data source it was installed on, once, until uninstalled', () => {
    const { dataSource, direct } = setUp();
    expect(DirectPublish.of(dataSource)).toBe(direct);
    expect(() => DirectPublish.install(dataSource, { sendBatch: async () => [] })).toThrow(/already/);
    direct.uninstall();
    expect(DirectPublish.of(dataSource)).toBeUndefined();
  });

  it('holds committed messages in memory, unpublished, while the relay knob is off (the crash window held open)', async () => {
    const { direct, batches, lost, runner, event } = setUp(undefined, true);
    direct.afterTransactionStart(event as never);
    direct.stage(runner, message('a'));
    await direct.afterTransactionCommit(event as never);
    expect(batches).toHaveLength(0);
    expect(lost).toHaveLength(0);
  });

  it('publishes what a transaction staged only once it commits, with acks=all, grouped by topic', async () => {
    const { direct, batches, runner, event } = setUp();
    direct.afterTransactionStart(event as never);
    direct.stage(runner, message('a'));
    direct.stage(runner, message('b', 'inventory.commands.v1'));
    expect(batches).toHaveLength(0);
    await direct.afterTransactionCommit(event as never);
    expect(batches).toHaveLength(1);
    expect(batches[0]?.acks).toBe(-1);
    expect(batches[0]?.topicMessages?.map((t) => t.topic)).toEqual([
      'order.events.v1',
      'inventory.commands.v1',
    ]);
    expect(batches[0]?.topicMessages?.[0]?.messages[0]).toMatchObject({
      key: 'key-a',
      headers: { 'x-message-type': 'order.OrderConfirmed' },
    });
    // The next transaction starts empty.
    direct.afterTransactionStart(event as never);
    await direct.afterTransactionCommit(event as never);
    expect(batches).toHaveLength(1);
  });

  it('publishes nothing for a transaction that rolled back', async () => {
    const { direct, batches, runner, event } = setUp();
    direct.afterTransactionStart(event as never);
    direct.stage(runner, message('a'));
    direct.afterTransactionRollback(event as never);
    direct.afterTransactionStart(event as never);
    await direct.afterTransactionCommit(event as never);
    expect(batches).toHaveLength(0);
  });

  it('drops what a rolled-back savepoint staged and keeps what a released one did', async () => {
    const { direct, batches, runner, event } = setUp();
    direct.afterTransactionStart(event as never);
    direct.stage(runner, message('outer'));
    direct.afterTransactionStart(event as never); // SAVEPOINT
    direct.stage(runner, message('rolled-back'));
    direct.afterTransactionRollback(event as never); // ROLLBACK TO SAVEPOINT
    direct.afterTransactionStart(event as never);
    direct.stage(runner, message('released'));
    await direct.afterTransactionCommit(event as never); // RELEASE SAVEPOINT: nothing published yet
    expect(batches).toHaveLength(0);
    await direct.afterTransactionCommit(event as never); // COMMIT
    expect(publishedIds(batches)).toEqual(['outer', 'released']);
  });

  it('keeps transactions on different connections apart', async () => {
    const { direct, batches, runner, event } = setUp();
    const other = {} as QueryRunner;
    direct.afterTransactionStart(event as never);
    direct.afterTransactionStart({ queryRunner: other } as never);
    direct.stage(runner, message('mine'));
    direct.stage(other, message('theirs'));
    direct.afterTransactionRollback({ queryRunner: other } as never);
    await direct.afterTransactionCommit(event as never);
    expect(publishedIds(batches)).toEqual(['mine']);
  });

  it('loses the messages when the publish fails after the commit: reported, never thrown, never retried', async () => {
    const broker = new Error('broker unreachable');
    const { direct, lost, runner, event } = setUp(broker);
    direct.afterTransactionStart(event as never);
    direct.stage(runner, message('a'));
    await expect(direct.afterTransactionCommit(event as never)).resolves.toBeUndefined();
    expect(lost).toEqual([{ error: broker, messages: [message('a')] }]);
    // Nothing is kept for a later attempt.
    direct.afterTransactionStart(event as never);
    await direct.afterTransactionCommit(event as never);
    expect(lost).toHaveLength(1);
  });
});
