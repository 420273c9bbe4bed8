import 'reflect-metadata';
import { StockReleased, StockReserved, createEnvelope } from '@saga-lab/contracts';
import { requireEnv, testSchema } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import {
  ManualClock,
  SagaConflict,
  SagaInstances1732400000000,
  SagaStore,
  SagaTraceparent1732900000000,
  type CommandSink,
} from '../src';
import { RESERVE_TIMEOUT_MS, lines, reserveOnlySaga } from './reserve-only.saga';

const definition = reserveOnlySaga;

describe('SagaStore (real PostgreSQL)', () => {
  const url = requireEnv('ORDER_DATABASE_URL');
  const schema = testSchema(url, 'saga');
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [SagaInstances1732400000000, SagaTraceparent1732900000000],
    poolSize: 4,
    extra: { options: schema.connectionOptions.options },
  });
  const clock = new ManualClock(new Date());
  // Commands go to a table in the same transaction, standing in for the outbox.
  const sink: CommandSink = async (manager, cmd, meta) => {
    await manager.query('INSERT INTO sent (type, saga_id, causation_id) VALUES ($1, $2, $3)', [
      cmd.type,
      meta.sagaId,
      meta.causationId,
    ]);
  };
  const store = new SagaStore(definition, { send: sink, clock });
  const sent = async (sagaId: string): Promise<string[]> =>
    (
      (await dataSource.query('SELECT type FROM sent WHERE saga_id = $1 ORDER BY id', [sagaId])) as {
        type: string;
      }[]
    ).map((r) => r.type);

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    await dataSource.query(
      'CREATE TABLE sent (id serial PRIMARY KEY, type text, saga_id text, causation_id text)',
    );
  });
  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
    await dataSource.destroy();
  });

  it('commits the new saga and its first command together, or neither', async () => {
    const kept = randomUUID();
    await dataSource.transaction((m) => store.start(m, kept, { orderId: kept }, 'corr-1'));
    const lost = randomUUID();
    await expect(
      dataSource.transaction(async (m) => {
        await store.start(m, lost, { orderId: lost }, 'corr-2');
        throw new Error('order insert failed');
      }),
    ).rejects.toThrow('order insert failed');

    await expect(sent(kept)).resolves.toEqual(['inventory.ReserveStock']);
    await expect(sent(lost)).resolves.toEqual([]);
    await expect(store.find(dataSource.manager, lost)).resolves.toBeUndefined();
    const stored = await store.find(dataSource.manager, kept);
    expect(stored).toMatchObject({
      version: 1,
      correlationId: 'corr-1',
      instance: { state: 'RESERVING', phase: 'RUNNING' },
    });
  });

  it('applies a reply, recording its message as the cause of what it sends', async () => {
    const sagaId = randomUUID();
    await dataSource.transaction((m) => store.start(m, sagaId, { orderId: sagaId }, 'corr-3'));
    const reply = createEnvelope(
      StockReserved,
      { orderId: sagaId, reservationId: randomUUID(), lines },
      { correlationId: 'corr-3', sagaId },
    );
    const after = await dataSource.transaction((m) => store.applyReply(m, reply));
    expect(after).toMatchObject({ state: 'DONE', phase: 'COMPLETED', deadline: null });
    await expect(store.find(dataSource.manager, sagaId)).resolves.toMatchObject({
      version: 2,
      instance: { data: { reservationId: reply.payload.reservationId } },
    });
    // A duplicate reply changes nothing (no version bump).
    await dataSource.transaction((m) => store.applyReply(m, reply));
    await expect(store.find(dataSource.manager, sagaId)).resolves.toMatchObject({ version: 2 });
  });

  it('detects a concurrent change with the version, so one of two racing transitions retries', async () => {
    const sagaId = randomUUID();
    await dataSource.transaction((m) => store.start(m, sagaId, { orderId: sagaId }, 'corr-4'));
    const reply = createEnvelope(
      StockReserved,
      { orderId: sagaId, reservationId: randomUUID(), lines },
      { correlationId: 'corr-4', sagaId },
    );
    const slow = dataSource.createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    try {
      const staleRead = await store.find(slow.manager, sagaId);
      expect(staleRead?.version).toBe(1);
      await dataSource.transaction((m) => store.applyReply(m, reply)); // commits version 2 meanwhile
      // The slow transaction now writes its transition on top of the version-1 row it read.
      await expect(
        store.applyReplyTo(slow.manager, staleRead as NonNullable<typeof staleRead>, reply),
      ).rejects.toBeInstanceOf(SagaConflict);
    } finally {
      await slow.rollbackTransaction();
      await slow.release();
    }
    // Only the winner's effects exist: one saga version 2, no command sent twice.
    await expect(store.find(dataSource.manager, sagaId)).resolves.toMatchObject({ version: 2 });
    await expect(sent(sagaId)).resolves.toEqual(['inventory.ReserveStock']);
  });

  it('reaps overdue sagas: the timed-out step is compensated, then the compensation re-sent until answered', async () => {
    const sagaId = randomUUID();
    await dataSource.transaction((m) => store.start(m, sagaId, { orderId: sagaId }, 'corr-5'));
    await expect(store.reapOverdue(dataSource)).resolves.toBe(0); // not due yet

    clock.advance(RESERVE_TIMEOUT_MS + 1);
    await store.reapOverdue(dataSource);
    await expect(store.find(dataSource.manager, sagaId)).resolves.toMatchObject({
      instance: { state: 'RELEASING', compensationAttempt: 1 },
    });
    clock.advance(10_000);
    await store.reapOverdue(dataSource);
    await expect(store.find(dataSource.manager, sagaId)).resolves.toMatchObject({
      instance: { state: 'RELEASING', compensationAttempt: 2 },
    });
    await expect(sent(sagaId)).resolves.toEqual([
      'inventory.ReserveStock',
      'inventory.ReleaseStock',
      'inventory.ReleaseStock',
    ]);

    const released = createEnvelope(
      StockReleased,
      { orderId: sagaId, released: false },
      { correlationId: 'corr-5', sagaId },
    );
    await dataSource.transaction((m) => store.applyReply(m, released));
    await expect(store.find(dataSource.manager, sagaId)).resolves.toMatchObject({
      instance: { state: 'UNDONE', deadline: null },
    });
    clock.advance(60_000);
    await store.reapOverdue(dataSource);
    await expect(sent(sagaId)).resolves.toHaveLength(3);
  });
});
