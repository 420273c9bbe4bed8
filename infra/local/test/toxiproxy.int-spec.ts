import { requireEnv, uniqueName } from '@saga-lab/testing';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** One request/response over a fresh TCP connection; returns the round-trip in ms and the echoed text. */
function roundTrip(port: number, text: string): Promise<{ ms: number; echoed: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.once('data', (data) => {
      resolve({ ms: performance.now() - started, echoed: String(data) });
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

describe('Toxiproxy (started by the stack)', () => {
  const api = requireEnv('TOXIPROXY_URL');
  const name = uniqueName('int-echo');
  let echo: net.Server;

  beforeAll(async () => {
    echo = net.createServer((socket) => socket.on('data', (data) => socket.write(data)));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await fetch(`${api}/proxies/${name}`, { method: 'DELETE' });
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  it('adds the latency a toxic asks for to traffic through its proxy', async () => {
    const upstream = `127.0.0.1:${(echo.address() as net.AddressInfo).port}`;
    const created = await fetch(`${api}/proxies`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name, listen: '127.0.0.1:0', upstream, enabled: true }),
    });
    expect(created.status).toBe(201);
    const { listen } = (await created.json()) as { listen: string };
    const port = Number(listen.split(':').pop());

    const before = await roundTrip(port, 'ping');
    expect(before.echoed).toBe('ping');

    const toxic = await fetch(`${api}/proxies/${name}/toxics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        name: 'slow',
        type: 'latency',
        stream: 'downstream',
        attributes: { latency: 400, jitter: 0 },
      }),
    });
    expect(toxic.status).toBe(200);

    const after = await roundTrip(port, 'pong');
    expect(after.echoed).toBe('pong');
    // A lower bound, not a timing budget: the toxic holds every downstream byte for 400 ms.
    expect(after.ms).toBeGreaterThanOrEqual(400);
    expect(after.ms).toBeGreaterThan(before.ms);
  });
});
