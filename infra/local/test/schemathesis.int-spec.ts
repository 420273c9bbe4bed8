import { runSchemathesis, type SchemathesisOutcome } from '@saga-lab/testing';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const TOKEN = 'test-token';

/** A one-operation API: GET /items/{id} for ids 1–1000, 400 for anything else. */
const openapi = {
  openapi: '3.0.3',
  info: { title: 'tiny', version: '1.0.0' },
  paths: {
    '/items/{id}': {
      get: {
        operationId: 'getItem',
        parameters: [
          {
            name: 'id',
            in: 'path',
            required: true,
            schema: { type: 'integer', minimum: 1, maximum: 1000 },
          },
        ],
        responses: {
          '200': {
            description: 'the item',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['id', 'name'],
                  properties: { id: { type: 'integer' }, name: { type: 'string' } },
                  additionalProperties: false,
                },
              },
            },
          },
          '400': {
            description: 'not an id',
            content: { 'application/json': { schema: { type: 'object' } } },
          },
          '404': { description: 'no route', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
  },
};

/**
 * Serves the document at /openapi.json and the operation; `broken` answers 500 for ids above 500. A request
 * without the bearer token gets an undocumented 401, so a clean run also proves `--header` reached every call.
 */
function api(broken: boolean): http.Server {
  return http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (pathname === '/openapi.json') return send(200, openapi);
    const match = /^\/items\/([^/]+)$/.exec(pathname);
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, { error: 'unauthorized' });
    if (!match?.[1] || req.method !== 'GET') return send(404, { error: 'not found' });
    let raw: string;
    try {
      raw = decodeURIComponent(match[1]);
    } catch {
      return send(400, { error: 'bad id' });
    }
    const id = /^\d{1,4}$/.test(raw) ? Number(raw) : NaN;
    if (!(id >= 1 && id <= 1000)) return send(400, { error: 'bad id' });
    if (broken && id > 500) return send(500, { error: 'boom' });
    return send(200, { id, name: `item ${id}` });
  });
}

/** Runs the real binary with the checks the gateway's contract test uses, on the one operation. */
const schemathesis = (url: string): Promise<SchemathesisOutcome> =>
  runSchemathesis({
    specUrl: `${url}/openapi.json`,
    bearerToken: TOKEN,
    seed: 1,
    maxExamples: 50,
    extraArgs: ['--include-operation-id', 'getItem'],
    timeoutMs: 60_000,
  });

describe('schemathesis (installed by the stack)', () => {
  const servers = { correct: api(false), broken: api(true) };
  const url = (server: http.Server): string => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  beforeAll(async () => {
    for (const server of Object.values(servers)) {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    }
  });
  afterAll(async () => {
    for (const server of Object.values(servers)) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('passes an API that keeps its OpenAPI contract (exit 0)', async () => {
    const outcome = await schemathesis(url(servers.correct));
    expect(outcome.failures).toEqual([]);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.output).toContain('No issues found');
  }, 60_000);

  it('fails an API that answers 500 for some valid inputs (exit 1, ST101 server error)', async () => {
    const outcome = await schemathesis(url(servers.broken));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.failures.map((f) => f.code)).toContain('ST101');
    expect(outcome.output).toMatch(/Server error/);
  }, 60_000);
});
