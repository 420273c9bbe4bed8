import type { PaymentStatus } from './payments';
import { judge, type LedgerEntry, type ReconcileOptions } from './reconciliation';

const options: ReconcileOptions = { graceMs: 10_000, orphanGraceMs: 60_000 };
const OLD = 120_000;

const entry = (
  kind: LedgerEntry['kind'],
  ageMs = OLD,
  outcome: LedgerEntry['outcome'] = 'APPROVED',
): LedgerEntry => ({
  kind,
  outcome,
  providerRef: `${kind.toLowerCase()}_${ageMs}`,
  amount: { amountMinor: 2_599, currency: 'EUR' },
  ageMs,
});

describe('reconciliation rules (judge)', () => {
  const auth = entry('AUTHORIZE');
  const capture = entry('CAPTURE');

  it('voids an open authorization of an order whose payment ended (compensated or declined)', () => {
    for (const status of ['VOIDED', 'DECLINED', 'REFUNDED'] as const)
      expect(judge(status, [auth], options)).toEqual({ action: 'void', authorization: auth });
  });

  it('refunds an open capture of an order whose payment ended', () => {
    for (const status of ['VOIDED', 'REFUNDED'] as const)
      expect(judge(status, [auth, capture], options)).toEqual({
        action: 'refund',
        authorization: auth,
        capture,
      });
  });

  it('never touches a live payment, whatever the provider holds', () => {
    for (const status of ['AUTHORIZED', 'CAPTURED'] as const) {
      expect(judge(status, [auth], options)).toEqual({ action: 'none' });
      expect(judge(status, [auth, capture], options)).toEqual({ action: 'none' });
      expect(judge(status, [auth, entry('AUTHORIZE', OLD + 1)], options)).toEqual({ action: 'none' });
    }
  });

  it('leaves what is settled: voided, refunded, declined, or nothing at all', () => {
    for (const status of ['VOIDED', 'DECLINED', 'REFUNDED'] as PaymentStatus[]) {
      expect(judge(status, [], options)).toEqual({ action: 'none' });
      expect(judge(status, [auth, entry('VOID')], options)).toEqual({ action: 'none' });
      expect(judge(status, [auth, capture, entry('REFUND')], options)).toEqual({ action: 'none' });
      expect(judge(status, [entry('AUTHORIZE', OLD, 'DECLINED')], options)).toEqual({ action: 'none' });
    }
  });

  it('waits out the grace: a recent operation is not judged yet', () => {
    expect(judge('VOIDED', [entry('AUTHORIZE', 9_999)], options)).toEqual({ action: 'none' });
    expect(judge('VOIDED', [auth, entry('CAPTURE', 9_999)], options)).toEqual({ action: 'none' });
    expect(judge('VOIDED', [entry('AUTHORIZE', 10_000)], options).action).toBe('void');
  });

  it('a missing payment row: an authorization is orphaned only past the long grace', () => {
    expect(judge(undefined, [entry('AUTHORIZE', 30_000)], options)).toEqual({ action: 'none' });
    expect(judge(undefined, [entry('AUTHORIZE', 59_999)], options)).toEqual({ action: 'none' });
    expect(judge(undefined, [auth], options)).toEqual({ action: 'void', authorization: auth });
    expect(judge(undefined, [auth, capture], options).action).toBe('unresolved');
  });

  it('a voided authorization with no payment row, past the long grace, gets its tombstone', () => {
    expect(judge(undefined, [auth, entry('VOID')], options)).toEqual({
      action: 'tombstone',
      authorization: auth,
    });
    expect(judge(undefined, [entry('AUTHORIZE', 30_000), entry('VOID', 20_000)], options)).toEqual({
      action: 'none',
    });
    expect(judge(undefined, [], options)).toEqual({ action: 'none' });
    expect(judge(undefined, [entry('AUTHORIZE', OLD, 'DECLINED')], options)).toEqual({ action: 'none' });
  });

  it('several approved authorizations (per-attempt keys) are reported, not guessed at', () => {
    const second = entry('AUTHORIZE', OLD - 1);
    expect(judge('VOIDED', [auth, second], options)).toEqual({
      action: 'unresolved',
      reason: expect.stringContaining('2 approved authorizations'),
    });
    expect(judge('DECLINED', [auth, second, entry('VOID')], options)).toEqual({ action: 'none' });
  });
});
