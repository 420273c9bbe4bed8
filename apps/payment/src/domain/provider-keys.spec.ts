import { ORDER_KEYS, PER_ATTEMPT_KEYS, keyFor, providerKeys } from './provider-keys';

describe('provider idempotency keys', () => {
  const orderId = '3f1c2a4e-0000-4000-8000-000000000001';

  it('per order and operation: every attempt presents the same key', () => {
    expect(keyFor('authorize', orderId)).toBe(`authorize:${orderId}`);
    for (const operation of ['authorize', 'capture', 'void', 'refund'] as const)
      expect(ORDER_KEYS.key(operation, orderId)).toBe(ORDER_KEYS.key(operation, orderId));
    expect(ORDER_KEYS.key('capture', orderId)).not.toBe(ORDER_KEYS.key('authorize', orderId));
    expect(providerKeys(true)).toBe(ORDER_KEYS);
  });

  it('per attempt (the lab with provider-idempotency off): authorize and capture get a fresh key each time', () => {
    expect(providerKeys(false)).toBe(PER_ATTEMPT_KEYS);
    for (const operation of ['authorize', 'capture'] as const) {
      const first = PER_ATTEMPT_KEYS.key(operation, orderId);
      expect(first).toMatch(new RegExp(`^${operation}:${orderId}:[0-9a-f-]{36}$`));
      expect(PER_ATTEMPT_KEYS.key(operation, orderId)).not.toBe(first);
    }
    // Compensations keep their order keys.
    expect(PER_ATTEMPT_KEYS.key('void', orderId)).toBe(`void:${orderId}`);
    expect(PER_ATTEMPT_KEYS.key('refund', orderId)).toBe(`refund:${orderId}`);
  });
});
