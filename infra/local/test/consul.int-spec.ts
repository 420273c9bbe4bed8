import { requireEnv, uniqueName, waitUntil } from '@saga-lab/testing';
import Consul from 'consul';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface HealthEntry {
  Service: { ID: string; Port: number };
  Checks: { Status: string; ServiceID: string }[];
}

describe('Consul (dev agent, started by the stack)', () => {
  const [host = '127.0.0.1', port = '8500'] = requireEnv('CONSUL_HTTP_ADDR')
    .replace(/^https?:\/\//, '')
    .split(':');
  const consul = new Consul({ host, port: Number(port) });
  const name = uniqueName('int-svc');
  const id = `${name}-1`;
  let healthy = true;
  let server: http.Server;
  let servicePort: number;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(req.url === '/health/ready' && healthy ? 200 : 503).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servicePort = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await consul.agent.service.deregister(id).catch(() => undefined);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const passing = async (): Promise<HealthEntry[]> =>
    (await consul.health.service({ service: name, passing: true })) as HealthEntry[];

  it('registers a service with an HTTP health check, sees it pass, then fail, then deregisters it', async () => {
    await consul.agent.service.register({
      name,
      id,
      address: '127.0.0.1',
      port: servicePort,
      check: {
        name: 'ready',
        http: `http://127.0.0.1:${servicePort}/health/ready`,
        interval: '1s',
        timeout: '1s',
        deregistercriticalserviceafter: '1m',
      },
    });

    const [entry] = await waitUntil(async () => ((await passing()).length === 1 ? passing() : undefined), {
      timeoutMs: 15_000,
      what: 'the service to pass its health check',
    });
    expect(entry?.Service).toMatchObject({ ID: id, Port: servicePort });
    expect(entry?.Checks.find((c) => c.ServiceID === id)?.Status).toBe('passing');

    healthy = false;
    await waitUntil(async () => (await passing()).length === 0, {
      timeoutMs: 15_000,
      what: 'the check to go critical',
    });

    await consul.agent.service.deregister(id);
    const all = (await consul.health.service({ service: name })) as HealthEntry[];
    expect(all).toEqual([]);
  });
});
