import { loggingConfig } from '@saga-lab/observability';
import { kafkaBrokers, parseConfig, postgresUrl, relayConfig } from '@saga-lab/runtime';
import { z } from 'zod';

const rate = z.coerce.number().min(0).max(1);

const fields = z.object({
  PAYMENT_DATABASE_URL: postgresUrl,
  KAFKA_BROKERS: kafkaBrokers,
  ...relayConfig,
  ...loggingConfig,
  CONSUL_HTTP_ADDR: z.string().min(1).optional(),
  PAYMENT_HOST: z.string().default('127.0.0.1'),
  /** The address registered in Consul when it differs from PAYMENT_HOST (a container's or pod's own IP). */
  PAYMENT_ADVERTISE_HOST: z.string().min(1).optional(),
  PAYMENT_PORT: z.coerce.number().int().min(0).max(65_535).default(3003),
  PAYMENT_DB_POOL: z.coerce.number().int().min(1).max(100).default(10),
  PAYMENT_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** The provider simulator's start-up faults; change them at runtime with PUT /provider/faults. */
  PROVIDER_TIMEOUT_MS: z.coerce.number().int().positive().default(2_000),
  PROVIDER_DECLINE_RATE: rate.default(0),
  PROVIDER_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  PROVIDER_TIMEOUT_RATE: rate.default(0),
  PROVIDER_LOST_RESPONSE_RATE: rate.default(0),
  /** Reconciliation (src/domain/reconciliation.ts): pause between rounds. */
  PAYMENT_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  /** How old a provider operation must be before reconciliation judges it (its command has committed). */
  PAYMENT_RECONCILE_GRACE_MS: z.coerce.number().int().min(0).max(3_600_000).default(10_000),
  /**
   * How old an authorization with no payment row must be before reconciliation voids it: longer than the
   * saga's authorize deadline and the command's redeliveries, so a saga still retrying is not cut short.
   */
  PAYMENT_RECONCILE_ORPHAN_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).default(60_000),
});

export const configSchema = fields.refine(
  (config) => config.PAYMENT_RECONCILE_ORPHAN_GRACE_MS >= config.PAYMENT_RECONCILE_GRACE_MS,
  {
    path: ['PAYMENT_RECONCILE_ORPHAN_GRACE_MS'],
    message: 'must be at least PAYMENT_RECONCILE_GRACE_MS',
  },
);

export type PaymentConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): PaymentConfig =>
  parseConfig('payment', configSchema, env);
