import { declareHttpStatuses, toBody } from '@saga-lab/observability';
import { OrderError } from '../domain/errors';
import { ORDER_HTTP_STATUSES } from './http-statuses';

declareHttpStatuses(ORDER_HTTP_STATUSES);

describe('the order API’s statuses', () => {
  it('answers a domain refusal with the status its code is declared with', () => {
    const locked = new OrderError('ORDER_LOCKED', 'being processed', { details: { status: 'PENDING' } });
    expect(toBody(locked, 'c-1')).toMatchObject({
      status: 409,
      body: { error: { code: 'ORDER_LOCKED', details: { status: 'PENDING' } } },
    });
    expect(toBody(new OrderError('UNKNOWN_PRODUCT', 'no product x'), 'c-2').status).toBe(422);
    expect(toBody(new OrderError('CATALOG_UNAVAILABLE', 'no answer'), 'c-3').status).toBe(503);
  });
});
