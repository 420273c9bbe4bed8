import { ContractViolation } from '@saga-lab/contracts';
import { DEFAULT_RETRY, isRetriable, retryDelayMs } from './retry-policy';

describe('retry policy', () => {
  it('backs off exponentially up to the cap, with full jitter', () => {
    const top = (attempt: number): number => retryDelayMs(DEFAULT_RETRY, attempt, () => 0.999_999);
    expect([2, 3, 4, 5, 6, 7, 8, 9].map(top)).toEqual([
      499, 999, 1_999, 3_999, 7_999, 15_999, 29_999, 29_999,
    ]);
    expect(retryDelayMs(DEFAULT_RETRY, 4, () => 0)).toBe(0);
  });

  it('never retries a contract violation or a programmer error', () => {
    expect(isRetriable(new ContractViolation('invalid payload', []))).toBe(false);
    expect(isRetriable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isRetriable(Object.assign(new Error('lock timeout'), { retriable: true }))).toBe(true);
    expect(isRetriable(new Error('connection reset'))).toBe(true);
  });
});
