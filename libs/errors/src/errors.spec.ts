import { AppError, isRetriable } from '.';

class StockConflict extends AppError<'STOCK_CONFLICT'> {
  constructor(productId: string, cause?: unknown) {
    super('STOCK_CONFLICT', `stock of ${productId} changed concurrently`, {
      retriable: true,
      details: { productId },
      cause,
    });
  }
}

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('AppError', () => {
  it('is not retriable unless it says so', () => {
    const error = new AppError('ORDER_FINAL', 'the order is CONFIRMED and can no longer change');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'AppError', code: 'ORDER_FINAL', retriable: false });
    expect(error.details).toBeUndefined();
    expect('cause' in error).toBe(false);
  });

  it('keeps its cause as the standard `cause`, and its details', () => {
    const cause = new Error('socket hang up');
    const error = new AppError('CATALOG_UNAVAILABLE', 'the catalog did not answer', {
      cause,
      details: { service: 'inventory' },
    });
    expect(error.cause).toBe(cause);
    expect(error.details).toEqual({ service: 'inventory' });
  });

  it('lets a subclass fix its code and retriability, and name itself', () => {
    const cause = pgError('40001', 'could not serialize access');
    const error = new StockConflict('beans', cause);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      name: 'StockConflict',
      code: 'STOCK_CONFLICT',
      retriable: true,
      details: { productId: 'beans' },
      message: 'stock of beans changed concurrently',
    });
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('StockConflict: stock of beans changed concurrently');
  });
});

describe('isRetriable', () => {
  it('takes an AppError at its word', () => {
    expect(isRetriable(new StockConflict('beans'))).toBe(true);
    expect(isRetriable(new AppError('PAYMENT_MISMATCH', 'another amount'))).toBe(false);
    expect(isRetriable(new AppError('UPSTREAM_TIMEOUT', 'too slow', { retriable: true }))).toBe(true);
  });

  it('does not retry a programmer error or a failure nobody classified', () => {
    expect(isRetriable(new TypeError("Cannot read properties of undefined (reading 'id')"))).toBe(false);
    expect(isRetriable(new RangeError('Invalid array length'))).toBe(false);
    expect(isRetriable(new Error('conditional update failed after its row was locked'))).toBe(false);
    expect(isRetriable('a string')).toBe(false);
    expect(isRetriable(undefined)).toBe(false);
    // An error's own claim is not enough: being retriable is said by AppError, or by a known library's class.
    expect(isRetriable(Object.assign(new Error('lock timeout'), { retriable: true }))).toBe(false);
  });

  it('retries what PostgreSQL and the network say will pass', () => {
    expect(isRetriable(pgError('40001', 'could not serialize access due to concurrent update'))).toBe(true);
    expect(isRetriable(pgError('40P01', 'deadlock detected'))).toBe(true);
    expect(isRetriable(pgError('55P03', 'canceling statement due to lock timeout'))).toBe(true);
    expect(isRetriable(pgError('57P01', 'terminating connection due to administrator command'))).toBe(true);
    expect(isRetriable(pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'))).toBe(true);
    // pg's lost connections and pool timeouts have no code, only a message.
    expect(isRetriable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isRetriable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isRetriable(new Error('Connection terminated by a test that means something else'))).toBe(false);
    expect(isRetriable(pgError('23505', 'duplicate key value violates unique constraint'))).toBe(false);
    expect(isRetriable(pgError('42P01', 'relation "orders" does not exist'))).toBe(false);
    // Only an error: a plain object with a code is not a failure anyone raised.
    expect(isRetriable({ code: '40001' })).toBe(false);
    // An AppError decides even when it wraps a transient failure: whoever wrapped it classified it.
    expect(isRetriable(new AppError('ORDER_FINAL', 'final', { cause: pgError('40001', 'x') }))).toBe(false);
  });
});
