import { ContractViolation } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { KafkaJSConnectionError, KafkaJSNonRetriableError } from 'kafkajs';
import { DEFAULT_RETRY, isRetriable, retryDelayMs } from './retry-policy';

describe('retry policy', () => {
  it('backs off exponentially up to the cap, with full jitter', () => {
    const top = (attempt: number): number => retryDelayMs(DEFAULT_RETRY, attempt, () => 0.999_999);
    expect([2, 3, 4, 5, 6, 7, 8, 9].map(top)).toEqual([
      499, 999, 1_999, 3_999, 7_999, 15_999, 29_999, 29_999,
    ]);
    expect(retryDelayMs(DEFAULT_RETRY, 4, () => 0)).toBe(0);
  });

  it('never retries a contract violation, a programmer error or a failure nobody classified', () => {
    expect(isRetriable(new ContractViolation('invalid payload', []))).toBe(false);
    expect(isRetriable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isRetriable(new Error('downstream unavailable'))).toBe(false);
    expect(isRetriable(Object.assign(new Error('lock timeout'), { retriable: true }))).toBe(false);
  });

  it('retries what says it may pass: our errors, PostgreSQL losing a race, Kafka by its own word', () => {
    expect(isRetriable(new AppError('SAGA_CONFLICT', 'changed', { retriable: true }))).toBe(true);
    expect(isRetriable(Object.assign(new Error('lock timeout'), { code: '55P03' }))).toBe(true);
    expect(isRetriable(new KafkaJSConnectionError('Connection timeout'))).toBe(true);
    expect(isRetriable(new KafkaJSNonRetriableError('Topic authorization failed'))).toBe(false);
  });
});
