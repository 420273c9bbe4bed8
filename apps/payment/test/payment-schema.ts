import { requireEnv, testSchema, type TestSchema } from '@saga-lab/testing';
import { DataSource } from 'typeorm';
import { Payment1732600000000 } from '../src/infra/migrations/1732600000000-payment';

/**
 * A schema of the test's own in the payment database, and data sources on it: one for the service, one
 * for the provider simulator's ledger (its own connections, as in the service, so its effects survive the
 * service's rollbacks).
 */
export function paymentSchema(name: string): { schema: TestSchema; connect(poolSize: number): DataSource } {
  const url = requireEnv('PAYMENT_DATABASE_URL');
  const schema = testSchema(url, name);
  return {
    schema,
    connect: (poolSize) =>
      new DataSource({
        type: 'postgres',
        url,
        migrations: [Payment1732600000000],
        poolSize,
        extra: { options: schema.connectionOptions.options },
      }),
  };
}
