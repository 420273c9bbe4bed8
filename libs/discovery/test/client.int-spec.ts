import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Deadline, DependencyPolicy, UpstreamFailure } from '@saga-lab/resilience';
import { z } from 'zod';
import { ServiceClient } from '../src/client';
import { StaticDirectory } from '../src/directory';

/** A 503 that says "overloaded" is a service shedding load: relayed as an answer, never held against it. */
describe('ServiceClient and a service that sheds load', () => {
  let server: http.Server;
  let url: string;
  let answer: { status: number; body: unknown; headers?: Record<string, string> };
  let calls = 0;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      calls++;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => {
    const states: string[] = [];
    const policy = new DependencyPolicy(
      'order',
      {
        failureThreshold: 2,
        halfOpenAfterMs: 60_000,
        maxAttempts: 3,
        initialBackoffMs: 1,
        maxBackoffMs: 2,
        callTimeoutMs: 1_000,
      },
      (state) => states.push(state),
    );
    return { client: new ServiceClient('order', new StaticDirectory({ order: url }), policy), states };
  };
  const request = (method: 'GET' | 'POST') => ({
    method,
    path: '/orders',
    deadline: Deadline.within(5_000),
    correlationId: 'c-1',
  });

  it('returns 503 OVERLOADED with its Retry-After, once, and the breaker stays closed', async () => {
    answer = {
      status: 503,
      body: { error: { code: 'OVERLOADED', message: 'busy', correlationId: 'c-1' } },
      headers: { 'retry-after': '1' },
    };
    const { client: c, states } = client();
    calls = 0;
    for (let i = 0; i < 5; i++) {
      const response = await c.call(request('GET'), z.unknown());
      expect(response).toMatchObject({ ok: false, status: 503 });
      expect(response.headers.get('retry-after')).toBe('1');
    }
    expect(calls).toBe(5); // not retried, although GET is
    expect(states).toEqual([]);
  });

  it('still counts any other 503 as the service failing: retried, and it opens the breaker', async () => {
    answer = {
      status: 503,
      body: { error: { code: 'SOMETHING_ELSE', message: 'down', correlationId: 'c-1' } },
    };
    const { client: c, states } = client();
    calls = 0;
    await expect(c.call(request('POST'), z.unknown())).rejects.toBeInstanceOf(UpstreamFailure);
    await expect(c.call(request('POST'), z.unknown())).rejects.toBeInstanceOf(UpstreamFailure);
    expect(calls).toBe(2);
    expect(states).toEqual(['open']);
  });
});
