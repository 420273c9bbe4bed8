import { requireEnv, uniqueName, waitUntil } from '@saga-lab/testing';
import { randomBytes } from 'node:crypto';

describe('Zipkin (started by the stack)', () => {
  const zipkin = requireEnv('ZIPKIN_URL');

  it('finds a posted span through its query API', async () => {
    const traceId = randomBytes(16).toString('hex');
    const spanId = randomBytes(8).toString('hex');
    const serviceName = uniqueName('int-zipkin');
    const span = {
      traceId,
      id: spanId,
      name: 'place-order',
      kind: 'SERVER',
      timestamp: Date.now() * 1000,
      duration: 12_345,
      localEndpoint: { serviceName },
      tags: { 'order.id': 'o-1' },
    };
    const posted = await fetch(`${zipkin}/api/v2/spans`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([span]),
    });
    expect(posted.status).toBe(202);

    const trace = await waitUntil(
      async () => {
        const response = await fetch(`${zipkin}/api/v2/trace/${traceId}`);
        return response.ok ? ((await response.json()) as (typeof span)[]) : undefined;
      },
      { timeoutMs: 15_000, what: 'the trace to be queryable' },
    );
    expect(trace).toHaveLength(1);
    expect(trace[0]).toMatchObject({
      traceId,
      id: spanId,
      name: 'place-order',
      duration: 12_345,
      tags: { 'order.id': 'o-1' },
    });

    const services = (await (await fetch(`${zipkin}/api/v2/services`)).json()) as string[];
    expect(services).toContain(serviceName);
  });
});
