import { loggingConfig } from '@saga-lab/observability';
import { kafkaBrokers, parseConfig, postgresUrl, relayConfig } from '@saga-lab/runtime';
import { z } from 'zod';

export const configSchema = z.object({
  ORDER_DATABASE_URL: postgresUrl,
  KAFKA_BROKERS: kafkaBrokers,
  ...relayConfig,
  ...loggingConfig,
  /** Where the catalog's prices come from (the inventory service's internal API). */
  INVENTORY_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3002'),
  /** `static`: call INVENTORY_URL even when Consul is configured (e.g. through a Toxiproxy proxy in the lab). */
  ORDER_INVENTORY_DISCOVERY: z.enum(['consul', 'static']).default('consul'),
  CONSUL_HTTP_ADDR: z.string().min(1).optional(),
  ORDER_HOST: z.string().default('127.0.0.1'),
  /** The address registered in Consul when it differs from ORDER_HOST (a container's or pod's own IP). */
  ORDER_ADVERTISE_HOST: z.string().min(1).optional(),
  ORDER_PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
  ORDER_DB_POOL: z.coerce.number().int().min(1).max(100).default(10),
  ORDER_CONSUMER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(3),
  /** Step deadlines of the place-order saga (ms). */
  ORDER_RESERVE_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  ORDER_AUTHORIZE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  ORDER_CAPTURE_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  ORDER_REAPER_INTERVAL_MS: z.coerce.number().int().positive().default(500),
  /**
   * Admission control: new orders are refused (503 + Retry-After) while this many sagas are in flight;
   * 0 turns it off. Little's law sizes it: the confirmed sagas/s the pipeline sustains × the completion
   * time to hold (load-tests/RESULTS.md, orders-write).
   */
  ORDER_ADMISSION_MAX_IN_FLIGHT: z.coerce.number().int().min(0).default(100),
  ORDER_ADMISSION_REFRESH_MS: z.coerce.number().int().positive().default(100),
});

export type OrderConfig = z.infer<typeof configSchema>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): OrderConfig =>
  parseConfig('order', configSchema, env);
