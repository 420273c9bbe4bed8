import { requireEnv, uniqueName, waitUntil } from './index';

describe('requireEnv', () => {
  it('returns a set value', () => {
    expect(requireEnv('KAFKA_BROKERS', { KAFKA_BROKERS: ' 127.0.0.1:9092 ' })).toBe('127.0.0.1:9092');
  });

  it('explains how to provide a missing value', () => {
    expect(() => requireEnv('KAFKA_BROKERS', {})).toThrow(
      /KAFKA_BROKERS is not set\. Run the tests with `npm test`/,
    );
  });
});

describe('uniqueName', () => {
  it('keeps the prefix, sanitised, and never repeats', () => {
    const names = new Set(Array.from({ length: 200 }, () => uniqueName('Orders Topic!')));
    expect(names.size).toBe(200);
    for (const name of names) expect(name).toMatch(/^orders-topic--[a-z0-9]+-[0-9a-f]{8}$/);
  });
});

describe('waitUntil', () => {
  it('returns the first truthy value of the probe', async () => {
    let calls = 0;
    await expect(waitUntil(() => (++calls >= 3 ? calls : undefined), { intervalMs: 1 })).resolves.toBe(3);
  });

  it('rejects with the last error once the deadline passes', async () => {
    await expect(
      waitUntil(
        () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 20, intervalMs: 5, what: 'the broker' },
      ),
    ).rejects.toThrow(/waiting for the broker: connection refused/);
  });
});
