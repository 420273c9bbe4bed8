import { kafkaBrokers, parseConfig } from '@saga-lab/runtime';
import { randomUUID } from 'node:crypto';
import { loggingConfig } from '@saga-lab/observability';
import { z } from 'zod';

const httpUrl = z.url({ protocol: /^https?$/ });
const seconds = z.coerce.number().int().positive();
const millis = z.coerce.number().int().positive();

/** `burst:perSecond`, e.g. `100:50` — a bucket of 100 tokens refilled at 50 per second. */
const bucketPolicy = z
  .string()
  .regex(/^\d+:\d+(\.\d+)?$/, 'burst:perSecond, e.g. 100:50')
  .transform((value) => {
    const [capacity, refillPerSecond] = value.split(':').map(Number) as [number, number];
    return { capacity, refillPerSecond };
  })
  .refine((p) => p.capacity >= 1 && p.refillPerSecond > 0, 'burst ≥ 1 and a positive refill rate');

const seededUser = z.object({
  username: z.string().regex(/^[a-z0-9][a-z0-9._-]{1,63}$/),
  password: z.string().min(8).max(200),
  role: z.enum(['customer', 'admin']),
  customerId: z.string().min(1).max(100).optional(),
});

/** The seeded users: a JSON array; their passwords are hashed with argon2id at start-up, never kept. */
const seededUsers = z.string().transform((value, ctx) => {
  let raw: unknown;
  try {
    raw = JSON.parse(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'a JSON array of users' });
    return z.NEVER;
  }
  const parsed = z.array(seededUser).min(1).safeParse(raw);
  if (!parsed.success) {
    ctx.addIssue({ code: 'custom', message: parsed.error.issues.map((i) => i.message).join(', ') });
    return z.NEVER;
  }
  return parsed.data;
});

export const configSchema = z.object({
  GATEWAY_HOST: z.string().default('127.0.0.1'),
  /** The address registered in Consul when it differs from GATEWAY_HOST (a container's or pod's own IP). */
  GATEWAY_ADVERTISE_HOST: z.string().min(1).optional(),
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  GATEWAY_INSTANCE_ID: z
    .string()
    .min(1)
    .default(() => randomUUID().slice(0, 8)),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }),
  KAFKA_BROKERS: kafkaBrokers,
  /** With Consul, instances are discovered; without it, the fixed *_URL addresses are used. */
  CONSUL_HTTP_ADDR: z.string().min(1).optional(),
  ORDER_URL: httpUrl.default('http://127.0.0.1:3001'),
  INVENTORY_URL: httpUrl.default('http://127.0.0.1:3002'),
  PAYMENT_URL: httpUrl.default('http://127.0.0.1:3003'),

  GATEWAY_JWT_SECRET: z.string().min(32, 'at least 32 characters'),
  GATEWAY_JWT_ISSUER: z.string().min(1).default('saga-lab-gateway'),
  GATEWAY_JWT_AUDIENCE: z.string().min(1).default('saga-lab-api'),
  GATEWAY_ACCESS_TOKEN_TTL_S: seconds.default(300),
  GATEWAY_REFRESH_TOKEN_TTL_S: seconds.default(24 * 3600),
  /** A refresh-token family (one login) ends after this, however often it was rotated. */
  GATEWAY_SESSION_TTL_S: seconds.default(7 * 24 * 3600),
  GATEWAY_USERS: seededUsers,

  GATEWAY_CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.url())),
  GATEWAY_BODY_LIMIT: z.coerce.number().int().min(1_024).max(1_048_576).default(16_384),
  /** Behind a trusted proxy, the client address comes from X-Forwarded-For. */
  GATEWAY_TRUST_PROXY: z.stringbool().default(false),
  /** Zipkin, for links to an order's trace (the order detail's `trace.url`). */
  ZIPKIN_URL: z.url({ protocol: /^https?$/ }).optional(),
  ...loggingConfig,

  GATEWAY_RATE_LIMIT_MODE: z.enum(['exact', 'approximate']).default('exact'),
  GATEWAY_RATE_LIMIT_USER: bucketPolicy.default({ capacity: 100, refillPerSecond: 50 }),
  GATEWAY_RATE_LIMIT_IP: bucketPolicy.default({ capacity: 300, refillPerSecond: 150 }),
  GATEWAY_RATE_LIMIT_AUTH: bucketPolicy.default({ capacity: 10, refillPerSecond: 0.5 }),
  GATEWAY_RATE_LIMIT_SYNC_MS: millis.default(100),

  GATEWAY_REQUEST_BUDGET_MS: millis.default(3_000),
  GATEWAY_CALL_TIMEOUT_MS: millis.default(1_000),
  GATEWAY_RETRY_ATTEMPTS: z.coerce.number().int().min(1).max(5).default(3),
  GATEWAY_BREAKER_THRESHOLD: z.coerce.number().int().min(1).default(5),
  GATEWAY_BREAKER_HALF_OPEN_MS: millis.default(5_000),

  /**
   * `all`: one log line per request; `errors`: only 4xx/5xx answers and requests slower than
   * GATEWAY_SLOW_REQUEST_MS (what a high-volume edge logs; the request metrics count all of them).
   */
  GATEWAY_ACCESS_LOG: z.enum(['all', 'errors']).default('all'),
  GATEWAY_SLOW_REQUEST_MS: millis.default(1_000),
  /** `off` sends every product read to the inventory service (to measure what the cache buys). */
  GATEWAY_PRODUCT_CACHE: z.enum(['on', 'off']).default('on'),
  GATEWAY_PRODUCT_CACHE_TTL_MS: millis.default(30_000),
  GATEWAY_PRODUCT_CACHE_MAX: z.coerce.number().int().min(1).default(10_000),
  GATEWAY_IDEMPOTENCY_TTL_S: seconds.default(24 * 3600),
});

export type GatewayConfig = z.infer<typeof configSchema>;
export type BucketPolicy = z.infer<typeof bucketPolicy>;
export type SeededUser = z.infer<typeof seededUser>;

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): GatewayConfig =>
  parseConfig('gateway', configSchema, env);
