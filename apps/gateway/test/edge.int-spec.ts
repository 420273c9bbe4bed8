import { toBody } from '@saga-lab/observability';
import { requireEnv, uniqueName, waitUntil } from '@saga-lab/testing';
import { Redis } from 'ioredis';
import { RefreshTokens } from '../src/auth/refresh-tokens';
import { IdempotencyStore } from '../src/edge/idempotency';
import { RedisRateLimiter, SyncedLocalRateLimiter, type Bucket } from '../src/edge/rate-limiter';
import { GatewayError } from '../src/errors';
import { GatewayMetrics } from '../src/metrics';
import { ProductCache, type Product } from '../src/products/product-cache';

/** The HTTP answer a refusal becomes: its status comes from the code, not from the error. */
const answerTo = (work: Promise<unknown>): Promise<unknown> =>
  work.catch((error: unknown) => {
    const { status, headers, body } = toBody(error, 'corr');
    return { status, headers, code: body.error.code };
  });

/** The gateway's Redis-backed mechanisms against a real Redis, each on keys of its own. */
describe('gateway edge mechanisms (real Redis)', () => {
  const redis = new Redis(requireEnv('REDIS_URL'));
  afterAll(() => redis.quit());

  const bucket = (policy: string, capacity: number, refillPerSecond: number): Bucket => ({
    key: uniqueName(`rl-${policy}`),
    policy,
    limits: { capacity, refillPerSecond },
  });

  describe('token bucket script (exact mode)', () => {
    it('admits the burst, refuses the next with the wait, and refills at the rate', async () => {
      const limiter = new RedisRateLimiter(redis);
      const b = bucket('user', 3, 10);
      const decisions = [];
      for (let i = 0; i < 4; i++) decisions.push(await limiter.take([b]));
      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false]);
      expect(decisions.map((d) => d.remaining)).toEqual([2, 1, 0, 0]);
      expect(decisions[3]?.retryAfterSeconds).toBe(1);
      await waitUntil(async () => (await limiter.take([b])).allowed || undefined, {
        timeoutMs: 2_000,
        intervalMs: 50,
        what: 'a refilled token',
      });
    });

    it('is all-or-nothing across buckets: a refusal by one charges none', async () => {
      const limiter = new RedisRateLimiter(redis);
      const wide = bucket('ip', 100, 1);
      const narrow = bucket('user', 1, 0.01);
      expect((await limiter.take([wide, narrow])).allowed).toBe(true);
      const refused = await limiter.take([wide, narrow]);
      expect(refused.allowed).toBe(false);
      expect(refused.policy).toBe('user');
      expect(Number(await redis.hget(wide.key, 'tokens'))).toBeGreaterThanOrEqual(99); // not charged twice
    });

    it('keeps one count for concurrent callers (atomic): exactly the burst is admitted', async () => {
      const limiter = new RedisRateLimiter(redis);
      const b = bucket('user', 20, 0.001);
      const decisions = await Promise.all(Array.from({ length: 100 }, () => limiter.take([b])));
      expect(decisions.filter((d) => d.allowed)).toHaveLength(20);
    });
  });

  describe('approximate mode (local buckets synced to Redis)', () => {
    it('two gateways share one limit after a sync, over-admitting by at most their local burst', async () => {
      const onError = jest.fn();
      const a = new SyncedLocalRateLimiter(redis, 60_000, onError);
      const b = new SyncedLocalRateLimiter(redis, 60_000, onError);
      const shared = bucket('user', 10, 0.001);
      let admitted = 0;
      for (let i = 0; i < 10; i++) if ((await a.take([shared])).allowed) admitted += 1;
      await a.sync();
      await b.sync(); // b has nothing pending, so it has not learned anything yet
      // b starts from a full local bucket: the over-admission approximate mode trades for no round trip.
      for (let i = 0; i < 10; i++) if ((await b.take([shared])).allowed) admitted += 1;
      await b.sync();
      expect(admitted).toBe(20);
      // b has adopted the shared level (in debt: 10 more than the limit were charged), so it refuses.
      expect(Number(await redis.hget(shared.key, 'tokens'))).toBeLessThan(-9);
      expect((await a.take([shared])).allowed).toBe(false);
      expect((await b.take([shared])).allowed).toBe(false);
      await a.close();
      await b.close();
      expect(onError).not.toHaveBeenCalled();
    });
  });

  describe('refresh tokens', () => {
    it('rotates; a reused token revokes its whole family', async () => {
      const tokens = new RefreshTokens(redis, { ttlSeconds: 60, sessionTtlSeconds: 600 });
      const { token: first } = await tokens.startFamily('alice');
      const second = await tokens.rotate(first);
      expect(second.username).toBe('alice');
      await expect(answerTo(tokens.rotate(first))).resolves.toMatchObject({
        status: 401,
        code: 'REFRESH_TOKEN_REUSED',
      });
      await expect(answerTo(tokens.rotate(second.token))).resolves.toMatchObject({
        status: 401,
        code: 'SESSION_REVOKED',
      });
      await expect(tokens.rotate('made-up')).rejects.toMatchObject({ code: 'INVALID_REFRESH_TOKEN' });
    });

    it('lets exactly one of two concurrent rotations of the same token win', async () => {
      const tokens = new RefreshTokens(redis, { ttlSeconds: 60, sessionTtlSeconds: 600 });
      const { token } = await tokens.startFamily('bob');
      const results = await Promise.allSettled([tokens.rotate(token), tokens.rotate(token)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    });

    it('logout revokes the family', async () => {
      const tokens = new RefreshTokens(redis, { ttlSeconds: 60, sessionTtlSeconds: 600 });
      const { token } = await tokens.startFamily('carol');
      await tokens.revoke(token);
      await expect(tokens.rotate(token)).rejects.toMatchObject({ code: 'SESSION_REVOKED' });
    });
  });

  describe('idempotency keys', () => {
    const store = (): IdempotencyStore => new IdempotencyStore(redis, 60, new GatewayMetrics());

    it('runs once, replays the first response, 409 while in flight, 422 for other parameters', async () => {
      const idem = store();
      const scope = uniqueName('user');
      let release: () => void = () => undefined;
      let runs = 0;
      const first = idem.run(scope, 'key-1', { a: 1 }, 'corr', async () => {
        runs += 1;
        await new Promise<void>((resolve) => (release = resolve));
        return { status: 202, headers: { location: '/v1/orders/x' }, body: { id: 'x' } };
      });
      await waitUntil(() => runs === 1, { what: 'the first request to start' });
      await expect(
        answerTo(idem.run(scope, 'key-1', { a: 1 }, 'corr', async () => fail())),
      ).resolves.toMatchObject({
        status: 409,
        headers: { 'retry-after': '1' },
        code: 'IDEMPOTENCY_KEY_IN_USE',
      });
      release();
      await expect(first).resolves.toMatchObject({ status: 202, replayed: false });
      await expect(idem.run(scope, 'key-1', { a: 1 }, 'corr', async () => fail())).resolves.toEqual({
        status: 202,
        headers: { location: '/v1/orders/x' },
        body: { id: 'x' },
        replayed: true,
      });
      await expect(
        answerTo(idem.run(scope, 'key-1', { a: 2 }, 'corr', async () => fail())),
      ).resolves.toMatchObject({
        status: 422,
        code: 'IDEMPOTENCY_KEY_REUSED',
      });
      expect(runs).toBe(1);
    });

    it('frees the key after a 5xx so a retry runs again', async () => {
      const idem = store();
      const scope = uniqueName('user');
      await expect(
        answerTo(
          idem.run(scope, 'k', {}, 'corr', async () => {
            throw new GatewayError('DEPENDENCY_UNAVAILABLE', 'down');
          }),
        ),
      ).resolves.toMatchObject({ status: 503 });
      await expect(
        idem.run(scope, 'k', {}, 'corr', async () => ({ status: 202, headers: {}, body: 1 })),
      ).resolves.toMatchObject({ status: 202, replayed: false });
    });
  });

  describe('product cache', () => {
    const productOf = (productId: string, version: number, name = 'Beans'): Product => ({
      productId,
      name,
      price: { amountMinor: 1_000, currency: 'EUR' },
      available: 5,
      version,
    });

    it('single-flight: 500 concurrent misses make one origin load', async () => {
      const id = uniqueName('p').slice(0, 60);
      let loads = 0;
      const cache = new ProductCache(
        redis,
        async (productId) => {
          loads += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
          return productOf(productId, 1);
        },
        new GatewayMetrics(),
        { ttlMs: 60_000, maxEntries: 100 },
      );
      const results = await Promise.all(Array.from({ length: 500 }, () => cache.get(id)));
      expect(loads).toBe(1);
      expect(new Set(results.map((r) => r?.etag)).size).toBe(1);
      // A second gateway (its own memory) finds it in Redis without loading.
      const other = new ProductCache(redis, async () => fail(), new GatewayMetrics(), {
        ttlMs: 60_000,
        maxEntries: 100,
      });
      await expect(other.get(id)).resolves.toMatchObject({ product: { version: 1 } });
    });

    it('an invalidation wins over a slower load of the older version', async () => {
      const id = uniqueName('p').slice(0, 60);
      let release: () => void = () => undefined;
      const cache = new ProductCache(
        redis,
        async (productId) => {
          await new Promise<void>((resolve) => (release = resolve));
          return productOf(productId, 1, 'old');
        },
        new GatewayMetrics(),
        { ttlMs: 60_000, maxEntries: 100 },
      );
      const slow = cache.get(id);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await cache.invalidate(productOf(id, 2, 'new'));
      release();
      await slow;
      await expect(cache.get(id)).resolves.toMatchObject({ product: { name: 'new', version: 2 } });
    });

    it('refreshes early, in the background, while still answering from memory', async () => {
      const id = uniqueName('p').slice(0, 60);
      let now = 1_000_000;
      let version = 1;
      let loads = 0;
      const cache = new ProductCache(
        redis,
        async (productId) => {
          loads += 1;
          return productOf(productId, version);
        },
        new GatewayMetrics(),
        { ttlMs: 10_000, maxEntries: 100, jitter: 0.2, random: () => 0.5, now: () => now },
      );
      await cache.get(id);
      expect(loads).toBe(1);
      now += 6_000; // before the refresh point (10 s − 3 s early)
      await cache.get(id);
      expect(loads).toBe(1);
      version = 2;
      now += 1_500; // past it: this read is answered from memory and starts one refresh
      await expect(cache.get(id)).resolves.toMatchObject({ product: { version: 1 } });
      await waitUntil(() => loads === 2, { what: 'the background refresh' });
      await waitUntil(async () => (await cache.get(id))?.product.version === 2, {
        what: 'the refreshed copy',
      });
    });
  });
});

function fail(): never {
  throw new Error('must not run');
}
