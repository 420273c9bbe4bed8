import type { Redis, Result } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { BucketPolicy } from '../config';

export interface Bucket {
  /** Redis key, e.g. `rl:user:alice`. */
  readonly key: string;
  /** The policy's name, for headers and metrics (`user`, `ip`, `auth`). */
  readonly policy: string;
  readonly limits: BucketPolicy;
}

export interface Decision {
  readonly allowed: boolean;
  /** The most constraining bucket: its policy, size and what is left of it. */
  readonly policy: string;
  readonly limit: number;
  readonly remaining: number;
  /** Seconds until that bucket is full again. */
  readonly resetSeconds: number;
  /** When refused: seconds until every bucket has a token again. */
  readonly retryAfterSeconds: number;
  /** Seconds the policy's full burst takes to refill (the `w` of RateLimit-Policy). */
  readonly windowSeconds: number;
}

export const RATE_LIMITER = Symbol('RATE_LIMITER');

export interface RateLimiter {
  /** Takes one token from every bucket, or from none (all-or-nothing). */
  take(buckets: readonly Bucket[]): Promise<Decision>;
  close(): Promise<void>;
}

/**
 * Token buckets in Redis, in one atomic script (the pattern is the lesson, so it is written out here).
 * Each bucket is a hash {tokens, at}: on every call it is refilled for the time since `at` at the
 * policy's rate, capped at its burst, then charged. Time comes from Redis (TIME), so gateways with
 * skewed clocks still agree. In `take` mode a request is admitted only if every bucket has the tokens and
 * then all are charged; in `debit` mode (the approximate limiter's sync) the cost is charged regardless,
 * and a bucket may go into debt that later refills pay back.
 * KEYS: the buckets. ARGV: mode, then per bucket: capacity, refill per second, cost.
 * Returns: admitted (1/0), then per bucket: tokens left (floored), ms until `cost` tokens, ms until full.
 */
export const TOKEN_BUCKET_SCRIPT = `
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local debit = ARGV[1] == 'debit'
local levels = {}
local admitted = 1
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[(i - 1) * 3 + 2])
  local perMs = tonumber(ARGV[(i - 1) * 3 + 3]) / 1000
  local cost = tonumber(ARGV[(i - 1) * 3 + 4])
  local state = redis.call('HMGET', key, 'tokens', 'at')
  local level = tonumber(state[1])
  local at = tonumber(state[2])
  if level == nil or at == nil then
    level = capacity
    at = now
  end
  level = math.min(capacity, level + math.max(0, now - at) * perMs)
  levels[i] = level
  if level < cost then admitted = 0 end
end
local result = { admitted }
for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[(i - 1) * 3 + 2])
  local perMs = tonumber(ARGV[(i - 1) * 3 + 3]) / 1000
  local cost = tonumber(ARGV[(i - 1) * 3 + 4])
  local level = levels[i]
  local wait = 0
  if level < cost then wait = math.ceil((cost - level) / perMs) end
  if admitted == 1 or debit then level = level - cost end
  redis.call('HSET', key, 'tokens', tostring(level), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil(capacity / perMs) + 1000)
  result[#result + 1] = math.floor(level)
  result[#result + 1] = wait
  result[#result + 1] = math.ceil((capacity - level) / perMs)
end
return result
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    tokenBucket(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Result<number[], Context>;
  }
}

export function defineTokenBucket(redis: Redis): void {
  redis.defineCommand('tokenBucket', { lua: TOKEN_BUCKET_SCRIPT });
}

interface BucketState {
  readonly bucket: Bucket;
  readonly tokens: number;
  readonly waitMs: number;
  readonly fullInMs: number;
}

/** Folds per-bucket states into one decision; headers describe the bucket closest to empty. */
function decide(admitted: boolean, states: readonly BucketState[]): Decision {
  const tightest = states.reduce((a, b) =>
    b.tokens / b.bucket.limits.capacity < a.tokens / a.bucket.limits.capacity ? b : a,
  );
  const { capacity, refillPerSecond } = tightest.bucket.limits;
  return {
    allowed: admitted,
    policy: tightest.bucket.policy,
    limit: capacity,
    remaining: Math.max(0, Math.floor(tightest.tokens)),
    resetSeconds: Math.ceil(tightest.fullInMs / 1000),
    retryAfterSeconds: admitted ? 0 : Math.max(1, Math.ceil(Math.max(...states.map((s) => s.waitMs)) / 1000)),
    windowSeconds: Math.ceil(capacity / refillPerSecond),
  };
}

const scriptArgs = (
  mode: 'take' | 'debit',
  buckets: readonly Bucket[],
  costs: readonly number[],
): (string | number)[] => [
  ...buckets.map((b) => b.key),
  mode,
  ...buckets.flatMap((b, i) => [b.limits.capacity, b.limits.refillPerSecond, costs[i] ?? 1]),
];

/** Exact mode: every request asks Redis (one round trip); all gateways share each bucket exactly. */
export class RedisRateLimiter implements RateLimiter {
  constructor(private readonly redis: Redis) {
    defineTokenBucket(redis);
  }

  async take(buckets: readonly Bucket[]): Promise<Decision> {
    const reply = await this.redis.tokenBucket(
      buckets.length,
      ...scriptArgs(
        'take',
        buckets,
        buckets.map(() => 1),
      ),
    );
    const states = buckets.map((bucket, i) => ({
      bucket,
      tokens: Number(reply[1 + i * 3]),
      waitMs: Number(reply[2 + i * 3]),
      fullInMs: Number(reply[3 + i * 3]),
    }));
    return decide(reply[0] === 1, states);
  }

  async close(): Promise<void> {
    // the Redis connection belongs to the gateway
  }
}

interface LocalBucket {
  bucket: Bucket;
  tokens: number;
  at: number;
  /** Taken here since the last sync, not yet charged in Redis. */
  pending: number;
}

/**
 * Approximate mode: each gateway answers from local buckets (no Redis round trip per request) and every
 * `syncMs` charges what it admitted to the shared Redis bucket and adopts the shared level, which
 * includes the other gateways' traffic. The price: between syncs, N gateways can together admit up to
 * about N × (burst share + rate × syncMs) more than the limit. Measured against exact mode in load-tests/.
 */
export class SyncedLocalRateLimiter implements RateLimiter {
  private readonly local = new LRUCache<string, LocalBucket>({ max: 100_000 });
  private readonly timer: NodeJS.Timeout;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    private readonly redis: Redis,
    syncMs: number,
    private readonly onError: (error: unknown) => void,
    private readonly now: () => number = Date.now,
  ) {
    defineTokenBucket(redis);
    this.timer = setInterval(() => {
      this.syncing = this.sync().catch(onError);
    }, syncMs);
    this.timer.unref();
  }

  async take(buckets: readonly Bucket[]): Promise<Decision> {
    const now = this.now();
    const states = buckets.map((bucket) => {
      let state = this.local.get(bucket.key);
      if (!state) {
        state = { bucket, tokens: bucket.limits.capacity, at: now, pending: 0 };
        this.local.set(bucket.key, state);
      }
      const { capacity, refillPerSecond } = bucket.limits;
      state.tokens = Math.min(capacity, state.tokens + ((now - state.at) * refillPerSecond) / 1000);
      state.at = now;
      return state;
    });
    const admitted = states.every((s) => s.tokens >= 1);
    if (admitted)
      for (const state of states) {
        state.tokens -= 1;
        state.pending += 1;
      }
    return decide(
      admitted,
      states.map((s) => {
        const perMs = s.bucket.limits.refillPerSecond / 1000;
        return {
          bucket: s.bucket,
          tokens: s.tokens,
          waitMs: s.tokens >= 1 ? 0 : Math.ceil((1 - s.tokens) / perMs),
          fullInMs: Math.ceil((s.bucket.limits.capacity - s.tokens) / perMs),
        };
      }),
    );
  }

  /** Charges each bucket's pending tokens in Redis and adopts the shared level. */
  async sync(): Promise<void> {
    const dirty = [...this.local.values()].filter((s) => s.pending > 0);
    if (dirty.length === 0) return;
    const pipeline = this.redis.pipeline();
    const charged = dirty.map((state) => {
      const cost = state.pending;
      state.pending = 0;
      pipeline.tokenBucket(1, ...scriptArgs('debit', [state.bucket], [cost]));
      return cost;
    });
    const replies = (await pipeline.exec()) ?? [];
    const now = this.now();
    replies.forEach(([error, reply], i) => {
      const state = dirty[i];
      if (!state) return;
      if (error || !Array.isArray(reply)) {
        state.pending += charged[i] ?? 0; // try again next time
        return;
      }
      // The shared level, less what was admitted here while the sync was on its way.
      state.tokens = Number(reply[1]) - state.pending;
      state.at = now;
    });
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
    await this.sync().catch(this.onError);
  }
}
