import { configSchema } from './config';

const base = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: '127.0.0.1:9092',
  GATEWAY_JWT_SECRET: 'x'.repeat(32),
  GATEWAY_USERS: JSON.stringify([
    { username: 'alice', password: 'long-enough', role: 'customer', customerId: 'c-1' },
  ]),
};

describe('gateway configuration', () => {
  it('parses bucket policies, users, origins and defaults', () => {
    const config = configSchema.parse({
      ...base,
      GATEWAY_RATE_LIMIT_USER: '10:2.5',
      GATEWAY_CORS_ORIGINS: 'https://a.example, https://b.example',
    });
    expect(config.GATEWAY_RATE_LIMIT_USER).toEqual({ capacity: 10, refillPerSecond: 2.5 });
    expect(config.GATEWAY_RATE_LIMIT_MODE).toBe('exact');
    expect(config.GATEWAY_USERS[0]?.username).toBe('alice');
    expect(config.GATEWAY_CORS_ORIGINS).toEqual(['https://a.example', 'https://b.example']);
  });

  it.each([
    ['a short JWT secret', { GATEWAY_JWT_SECRET: 'short' }],
    ['users that are not JSON', { GATEWAY_USERS: 'alice:pw' }],
    [
      'a user with a short password',
      { GATEWAY_USERS: JSON.stringify([{ username: 'al', password: 'x', role: 'customer' }]) },
    ],
    ['an unknown rate-limit mode', { GATEWAY_RATE_LIMIT_MODE: 'sloppy' }],
    ['a bucket without a rate', { GATEWAY_RATE_LIMIT_IP: '10' }],
    ['a zero refill rate', { GATEWAY_RATE_LIMIT_IP: '10:0' }],
    ['an origin that is not a URL', { GATEWAY_CORS_ORIGINS: 'shop' }],
  ])('refuses %s', (_, override) => {
    expect(configSchema.safeParse({ ...base, ...override }).success).toBe(false);
  });
});
