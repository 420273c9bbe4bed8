import { NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { DomainError, toBody } from './errors';

describe('the one error format', () => {
  it('keeps a domain error’s status, code and details', () => {
    expect(
      toBody(new DomainError(409, 'ORDER_LOCKED', 'order is being processed', { status: 'PENDING' }), 'c-1'),
    ).toEqual({
      status: 409,
      body: {
        error: {
          code: 'ORDER_LOCKED',
          message: 'order is being processed',
          details: { status: 'PENDING' },
          correlationId: 'c-1',
        },
      },
    });
  });

  it('maps Nest HTTP exceptions, with or without a code of their own', () => {
    expect(
      toBody(new NotFoundException({ code: 'ORDER_NOT_FOUND', message: 'no such order' }), 'c-2').body.error,
    ).toMatchObject({
      code: 'ORDER_NOT_FOUND',
      message: 'no such order',
    });
    expect(toBody(new ServiceUnavailableException(), 'c-3')).toMatchObject({
      status: 503,
      body: { error: { code: 'UNAVAILABLE' } },
    });
  });

  it('answers 4xx for a framework error such as a malformed body, never 5xx', () => {
    const malformed = Object.assign(new SyntaxError('Unexpected token } in JSON'), { statusCode: 400 });
    expect(toBody(malformed, 'c-4')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST' } } });
  });

  it('hides the details of an unexpected error', () => {
    expect(toBody(new Error('password=hunter2 connection failed'), 'c-5')).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'internal error', correlationId: 'c-5' } },
    });
  });
});
