import 'reflect-metadata';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { testSchema, type TestSchema } from './schema';

/**
 * A TypeORM data source on a schema of the test's own inside a service database (see testSchema): create
 * the schema, then initialize; drop it in afterAll.
 */
export function schemaDataSource(
  databaseUrl: string,
  prefix: string,
  options: Pick<DataSourceOptions, 'entities' | 'migrations'> & { readonly poolSize?: number } = {},
): { dataSource: DataSource; schema: TestSchema } {
  const schema = testSchema(databaseUrl, prefix);
  const dataSource = new DataSource({
    type: 'postgres',
    url: databaseUrl,
    ...(options.entities ? { entities: options.entities } : {}),
    ...(options.migrations ? { migrations: options.migrations } : {}),
    poolSize: options.poolSize ?? 4,
    extra: { options: schema.connectionOptions.options },
  });
  return { dataSource, schema };
}
