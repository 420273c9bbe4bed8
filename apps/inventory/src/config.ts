import { loggingConfig } from '@saga-lab/observability';
import { kafkaBrokers, parseConfig, postgresUrl, relayConfig } from '@saga-lab/runtime';
import { z } from 'zod';

/** Validated at boot: a wrong setting stops the service with the variable's name and what was expected. */
export const configSchema = z.object({
  INVENTORY_DATABASE_URL: postgresUrl,
  KAFKA_BROKERS: kafkaBrokers,
  ...relayConfig,
  ...loggingConfig,
  CONSUL_HTTP_ADDR: z.string().min(1).optional(),
  INVENTORY_HOST: z.string().default('127.0.0.1'),
  /** The address registered in Consul when it differs from INVENTORY_HOST (a container's or pod's own IP). */
  INVENTORY_ADVERTISE_HOST: z.string().min(1).optional(),
  INVENTORY_PORT: z.coerce.number().int().min(0).max(65_535).default(3002),
  INVENTORY_DB_POOL: z.coerce.number().int().min(1).max(100).default(10),
  INVENTORY_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  INVENTORY_SEED: z.enum(['true', 'false']).default('true'),
});

export type InventoryConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): InventoryConfig =>
  parseConfig('inventory', configSchema, env);
