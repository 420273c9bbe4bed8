import { requireEnv, uniqueName } from '@saga-lab/testing';
import 'reflect-metadata';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';

const services = [
  ['order', 'ORDER_DATABASE_URL', 'orders'],
  ['inventory', 'INVENTORY_DATABASE_URL', 'inventory'],
  ['payment', 'PAYMENT_DATABASE_URL', 'payments'],
] as const;

describe.each(services)('PostgreSQL database of the %s service', (_service, envVar, database) => {
  const table = uniqueName('probe').replace(/-/g, '_');

  class CreateProbeTable1700000000000 implements MigrationInterface {
    name = 'CreateProbeTable1700000000000';
    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`CREATE TABLE "${table}" (id uuid PRIMARY KEY, note text NOT NULL)`);
    }
    async down(runner: QueryRunner): Promise<void> {
      await runner.query(`DROP TABLE "${table}"`);
    }
  }

  const dataSource = new DataSource({
    type: 'postgres',
    url: requireEnv(envVar),
    migrations: [CreateProbeTable1700000000000],
    migrationsTableName: `${table}_migrations`,
    poolSize: 2,
  });

  beforeAll(async () => {
    await dataSource.initialize();
  });
  afterAll(async () => {
    await dataSource.query(`DROP TABLE IF EXISTS "${table}_migrations"`);
    await dataSource.destroy();
  });

  it('connects as the service’s own role to its own database', async () => {
    const [row] = (await dataSource.query('SELECT current_user AS "user", current_database() AS db')) as {
      user: string;
      db: string;
    }[];
    expect(row).toEqual({ user: database, db: database });
  });

  it('runs a migration, uses its table with parameterised queries, and reverts it', async () => {
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    expect(applied.map((m) => m.name)).toEqual(['CreateProbeTable1700000000000']);
    await expect(dataSource.showMigrations()).resolves.toBe(false);

    await dataSource.query(`INSERT INTO "${table}" (id, note) VALUES ($1, $2)`, [
      '6f1c0c52-0d4e-4f7a-9d35-3a3c1b8f5e11',
      "it's here",
    ]);
    const rows = (await dataSource.query(`SELECT note FROM "${table}" WHERE id = $1`, [
      '6f1c0c52-0d4e-4f7a-9d35-3a3c1b8f5e11',
    ])) as {
      note: string;
    }[];
    expect(rows).toEqual([{ note: "it's here" }]);

    await dataSource.undoLastMigration({ transaction: 'each' });
    const exists = (await dataSource.query('SELECT to_regclass($1) AS t', [table])) as { t: string | null }[];
    expect(exists[0]?.t).toBeNull();
  });

  it('cannot reach another service’s database', async () => {
    const other = services.find(([, , db]) => db !== database)?.[2] ?? 'orders';
    const url = new URL(requireEnv(envVar));
    url.pathname = `/${other}`;
    const foreign = new DataSource({ type: 'postgres', url: url.toString(), poolSize: 1 });
    await expect(
      foreign.initialize().then(() => foreign.query('CREATE TABLE intruder (id int)')),
    ).rejects.toThrow(/permission denied|must be owner/);
    if (foreign.isInitialized) await foreign.destroy();
  });
});
