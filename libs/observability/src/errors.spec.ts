import { NotFoundException, ServiceUnavailableException, type ArgumentsHost } from '@nestjs/common';
import { AppError } from '@saga-lab/errors';
import { HttpAnswer, HttpErrorFilter, toBody } from './errors';
import { declareHttpStatuses } from './http-statuses';

declareHttpStatuses({ ORDER_LOCKED: 409, RATE_LIMITED: 429 });

describe('the one error format', () => {
  it('answers an error with the status its code was declared with, and its code and details', () => {
    const locked = new AppError('ORDER_LOCKED', 'order is being processed', {
      details: { status: 'PENDING' },
    });
    expect(toBody(locked, 'c-1')).toEqual({
      status: 409,
      headers: {},
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

  it('sends the headers an answer implies, and relays another service’s status as received', () => {
    const limited = new HttpAnswer('RATE_LIMITED', 'too many requests', { headers: { 'retry-after': '3' } });
    expect(toBody(limited, 'c-6')).toMatchObject({ status: 429, headers: { 'retry-after': '3' } });
    const relayed = new HttpAnswer('UNKNOWN_PRODUCT', 'no product x', { status: 422 });
    expect(toBody(relayed, 'c-7')).toMatchObject({
      status: 422,
      body: { error: { code: 'UNKNOWN_PRODUCT' } },
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
      headers: {},
      body: { error: { code: 'INTERNAL', message: 'internal error', correlationId: 'c-5' } },
    });
  });
});

describe('HttpErrorFilter', () => {
  const answer = (
    exception: unknown,
  ): { status?: number; headers: Record<string, string>; logged: string[] } => {
    const sent = { status: undefined as number | undefined, headers: {} as Record<string, string> };
    const reply = {
      status: (code: number) => ((sent.status = code), reply),
      header: (name: string, value: string) => ((sent.headers[name] = value), reply),
      send: () => undefined,
    };
    const host = {
      switchToHttp: () => ({
        getRequest: () => ({ headers: { 'x-correlation-id': 'c-9' } }),
        getResponse: () => reply,
      }),
    } as unknown as ArgumentsHost;
    const logged: string[] = [];
    new HttpErrorFilter((message) => logged.push(message)).catch(exception, host);
    return { ...sent, logged };
  };

  it('treats a code nobody declared a status for as a programmer error: 500, logged with its code', () => {
    const result = answer(new HttpAnswer('ORDER_MISPLACED', 'lost it', { headers: { 'retry-after': '1' } }));
    expect(result.status).toBe(500);
    expect(result.headers).toEqual({ 'content-type': 'application/json' });
    expect(result.logged).toEqual(['error code ORDER_MISPLACED has no HTTP status (correlationId c-9)']);
  });

  it('logs an unexpected error but not an expected refusal', () => {
    expect(answer(new TypeError('x is undefined')).logged).toEqual(['unhandled error (correlationId c-9)']);
    const refused = answer(new HttpAnswer('RATE_LIMITED', 'slow down', { headers: { 'retry-after': '2' } }));
    expect(refused).toMatchObject({ status: 429, headers: { 'retry-after': '2' }, logged: [] });
  });
});

describe('declareHttpStatuses', () => {
  it('lets owners declare a code again with its status, never with another one', () => {
    expect(() => declareHttpStatuses({ ORDER_LOCKED: 409 })).not.toThrow();
    expect(() => declareHttpStatuses({ ORDER_LOCKED: 423 })).toThrow(
      'error code ORDER_LOCKED is answered with 409 already, not 423',
    );
  });
});
