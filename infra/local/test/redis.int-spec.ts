import { requireEnv, uniqueName } from '@saga-lab/testing';
import Redis from 'ioredis';

describe('Redis (started by the stack)', () => {
  const redis = new Redis(requireEnv('REDIS_URL'), { lazyConnect: true });
  const key = uniqueName('int-redis');

  beforeAll(() => redis.connect());
  afterAll(async () => {
    await redis.del(key, `${key}:counter`);
    redis.disconnect();
  });

  it('round-trips a value with a TTL', async () => {
    await redis.set(key, 'hello', 'EX', 60);
    await expect(redis.get(key)).resolves.toBe('hello');
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
  });

  it('runs a Lua script atomically (what the rate limiter will rely on)', async () => {
    const script = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
    const results = await Promise.all(
      Array.from({ length: 20 }, () => redis.eval(script, 1, `${key}:counter`, 5)),
    );
    expect(new Set(results).size).toBe(20);
    await expect(redis.get(`${key}:counter`)).resolves.toBe('100');
  });
});
