import { requireEnv, uniqueName, waitUntil } from '@saga-lab/testing';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConsulDirectory, ConsulRegistration, consulClient } from '../src';

describe('ConsulDirectory (real Consul)', () => {
  const consul = consulClient(requireEnv('CONSUL_HTTP_ADDR'));
  const servers: http.Server[] = [];
  const registrations: ConsulRegistration[] = [];
  let directory: ConsulDirectory | undefined;

  /** An instance whose readiness the test flips. */
  async function instance(name: string): Promise<{ port: number; healthy: { value: boolean } }> {
    const healthy = { value: true };
    const server = http.createServer((_req, res) => res.writeHead(healthy.value ? 200 : 503).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    const { port } = server.address() as AddressInfo;
    const registration = new ConsulRegistration(consul, {
      name,
      id: `${name}-${port}`,
      address: '127.0.0.1',
      port,
      healthUrl: `http://127.0.0.1:${port}/health/ready`,
      checkInterval: '1s',
    });
    await registration.register();
    registrations.push(registration);
    return { port, healthy };
  }

  afterAll(async () => {
    directory?.close();
    await Promise.all(registrations.map((r) => r.deregister()));
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  it('follows the passing instances by watch and picks them round robin', async () => {
    const name = uniqueName('dir');
    const a = await instance(name);
    directory = new ConsulDirectory(consul, [name]);
    await directory.ready();
    await waitUntil(async () => directory?.instances(name).length === 1 || undefined, {
      timeoutMs: 15_000,
      what: 'the first instance passing',
    });

    const b = await instance(name);
    await waitUntil(async () => directory?.instances(name).length === 2 || undefined, {
      timeoutMs: 15_000,
      what: 'the second instance joining',
    });
    const picks = Array.from({ length: 4 }, () => directory?.pick(name)?.url);
    expect(new Set(picks)).toEqual(new Set([`http://127.0.0.1:${a.port}`, `http://127.0.0.1:${b.port}`]));
    expect(picks[0]).not.toBe(picks[1]);

    a.healthy.value = false;
    await waitUntil(
      async () => {
        const urls = directory?.instances(name).map((i) => i.url);
        return urls?.length === 1 && urls[0] === `http://127.0.0.1:${b.port}` ? true : undefined;
      },
      { timeoutMs: 10_000, what: 'the failing instance leaving the list' },
    );
    expect(directory.pick(name)?.url).toBe(`http://127.0.0.1:${b.port}`);
  });
});
