import { HttpAnswer, toBody } from '@saga-lab/observability';
import { GatewayError } from './errors';

describe('gateway errors over HTTP', () => {
  it('answers each code with the status of the gateway’s table, and the headers the error carries', () => {
    const limited = new GatewayError('RATE_LIMITED', 'too many requests', {
      details: { policy: 'ip', retryAfterSeconds: 2 },
      headers: { 'retry-after': '2' },
    });
    expect(toBody(limited, 'c-1')).toEqual({
      status: 429,
      headers: { 'retry-after': '2' },
      body: {
        error: {
          code: 'RATE_LIMITED',
          message: 'too many requests',
          details: { policy: 'ip', retryAfterSeconds: 2 },
          correlationId: 'c-1',
        },
      },
    });
    expect(toBody(new GatewayError('STORE_UNAVAILABLE', 'down'), 'c-2').status).toBe(503);
    expect(toBody(new GatewayError('DEADLINE_EXCEEDED', 'too slow'), 'c-3').status).toBe(504);
  });

  it('relays a service’s refusal with that service’s status, whatever its code', () => {
    const relayed = new HttpAnswer('ORDER_LOCKED', 'being processed', { status: 409 });
    expect(toBody(relayed, 'c-4')).toMatchObject({ status: 409, body: { error: { code: 'ORDER_LOCKED' } } });
  });
});
