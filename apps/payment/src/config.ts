import { loggingConfig } from '@saga-lab/observability';
import { kafkaBrokers, parseConfig, postgresUrl, relayConfig } from '@saga-lab/runtime';
import { z } from 'zod';

const rate = z.coerce.number().min(0).max(1);

export const configSchema = z.object({
  PAYMENT_DATABASE_URL: postgresUrl,
  KAFKA_BROKERS: kafkaBrokers,
  ...relayConfig,
  ...loggingConfig,
  CONSUL_HTTP_ADDR: z.string().min(1).optional(),
  PAYMENT_HOST: z.string().default('127.0.0.1'),
  PAYMENT_PORT: z.coerce.number().int().min(0).max(65_535).default(3003),
  PAYMENT_DB_POOL: z.coerce.number().int().min(1).max(100).default(10),
  PAYMENT_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** The provider simulator's start-up faults; change them at runtime with PUT /provider/faults. */
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
  PROVIDER_DECLINE_RATE: rate.default(0),
  PROVIDER_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  PROVIDER_TIMEOUT_RATE: rate.default(0),
  PROVIDER_LOST_RESPONSE_RATE: rate.default(0),
});

export type PaymentConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): PaymentConfig =>
  parseConfig('payment', configSchema, env);
