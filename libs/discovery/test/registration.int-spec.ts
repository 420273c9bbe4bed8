import { requireEnv, uniqueName, waitUntil } from '@saga-lab/testing';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConsulRegistration, consulClient } from '../src';

describe('ConsulRegistration (real Consul)', () => {
  const consul = consulClient(requireEnv('CONSUL_HTTP_ADDR'));
  let server: http.Server;

  beforeAll(async () => {
    server = http.createServer((_req, res) => res.writeHead(200).end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('registers an instance that becomes passing, and deregisters it (twice is harmless)', async () => {
    const { port } = server.address() as AddressInfo;
    const name = uniqueName('svc');
    const registration = new ConsulRegistration(consul, {
      name,
      id: `${name}-${port}`,
      address: '127.0.0.1',
      port,
      healthUrl: `http://127.0.0.1:${port}/health/ready`,
      checkInterval: '1s',
    });
    await registration.register();
    const passing = await waitUntil(
      async () => {
        const entries = (await consul.health.service({ service: name, passing: true })) as {
          Service: { Port: number };
        }[];
        return entries.length === 1 ? entries : undefined;
      },
      { timeoutMs: 15_000, what: 'a passing instance' },
    );
    expect(passing[0]?.Service.Port).toBe(port);
    await registration.deregister();
    await registration.deregister();
    await expect(consul.health.service({ service: name })).resolves.toEqual([]);
  });
});
