import { Client } from 'pg';
import { uniqueName } from './names';

/**
 * A PostgreSQL schema of the test's own inside a service database, so integration tests can run
 * migrations and truncate tables without touching the service's data or each other's. Connections
 * opened with `connectionOptions` resolve unqualified names in it.
 */
export interface TestSchema {
  readonly name: string;
  /** For TypeORM/pg: `extra: schema.connectionOptions`. */
  readonly connectionOptions: { options: string };
  create(): Promise<void>;
  drop(): Promise<void>;
}

export function testSchema(databaseUrl: string, prefix: string): TestSchema {
  const name = uniqueName(prefix).replace(/-/g, '_');
  const run = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  return {
    name,
    connectionOptions: { options: `-c search_path=${name}` },
    create: () => run(`CREATE SCHEMA ${name}`),
    drop: () => run(`DROP SCHEMA IF EXISTS ${name} CASCADE`),
  };
}
