import { configSchema, loadConfig } from './config';

const base = {
  PAYMENT_DATABASE_URL: 'postgres://payment:secret@127.0.0.1:5432/payments',
  KAFKA_BROKERS: '127.0.0.1:9092',
};

describe('payment configuration', () => {
  it('has reconciliation defaults: a round every 2 s, 10 s grace, 60 s for a missing payment row', () => {
    expect(configSchema.parse(base)).toMatchObject({
      PAYMENT_RECONCILE_INTERVAL_MS: 2_000,
      PAYMENT_RECONCILE_GRACE_MS: 10_000,
      PAYMENT_RECONCILE_ORPHAN_GRACE_MS: 60_000,
      SAGA_LAB_SAFEGUARDS_OFF: [],
    });
    expect(
      configSchema.parse({
        ...base,
        PAYMENT_RECONCILE_INTERVAL_MS: '500',
        PAYMENT_RECONCILE_GRACE_MS: '0',
        PAYMENT_RECONCILE_ORPHAN_GRACE_MS: '0',
      }),
    ).toMatchObject({
      PAYMENT_RECONCILE_INTERVAL_MS: 500,
      PAYMENT_RECONCILE_GRACE_MS: 0,
      PAYMENT_RECONCILE_ORPHAN_GRACE_MS: 0,
    });
  });

  it.each([
    ['a zero interval', { PAYMENT_RECONCILE_INTERVAL_MS: '0' }],
    ['a negative grace', { PAYMENT_RECONCILE_GRACE_MS: '-1' }],
    ['a fractional grace', { PAYMENT_RECONCILE_GRACE_MS: '1.5' }],
    [
      'a missing-row grace shorter than the grace',
      { PAYMENT_RECONCILE_GRACE_MS: '20000', PAYMENT_RECONCILE_ORPHAN_GRACE_MS: '10000' },
    ],
    ['an unknown safeguard', { SAGA_LAB_SAFEGUARDS_OFF: 'reconcilation' }],
  ])('refuses %s', (_, override) => {
    expect(configSchema.safeParse({ ...base, ...override }).success).toBe(false);
  });

  it('names the variable in the error', () => {
    expect(() =>
      loadConfig({ ...base, PAYMENT_RECONCILE_ORPHAN_GRACE_MS: '5', PAYMENT_RECONCILE_GRACE_MS: '6' }),
    ).toThrow(/PAYMENT_RECONCILE_ORPHAN_GRACE_MS: must be at least PAYMENT_RECONCILE_GRACE_MS/);
  });
});
