/**
 * The baseline of the gateway benchmark: a bare `node:http` server answering every request with
 * 200 {"hello":"world"} — no framework, no logging, no middleware. Whatever the gateway costs on top of
 * Node's HTTP stack shows up as the ratio between the two maxima (docs/architecture.md §10).
 *
 *   node load-tests/src/hello-world.ts          # PORT=0 (any free port); prints its URL
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const body = Buffer.from(JSON.stringify({ hello: 'world' }));
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };

const server = http.createServer((_req, res) => {
  res.writeHead(200, headers).end(body);
});

server.listen(Number(process.env['PORT'] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`http://127.0.0.1:${port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)).closeAllConnections());
}
