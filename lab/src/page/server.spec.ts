import type { FastifyInstance } from 'fastify';
import type { ReportFile } from './lab-files';
import { labPageApp, type LabSource, type LabState } from './server';

const state: LabState = {
  now: '2026-11-29T08:31:00.000Z',
  live: { value: null },
  sagas: { error: 'database unreachable: connect ECONNREFUSED 127.0.0.1:15432' },
  reports: { value: [] },
};

describe('lab page server', () => {
  const asked: [string, ReportFile][] = [];
  const source: LabSource = {
    state: () => Promise.resolve(state),
    reportFile: (id, file) => {
      asked.push([id, file]);
      return Promise.resolve(id === 'run-1' && file === 'timeline.svg' ? Buffer.from('<svg/>') : undefined);
    },
    close: () => Promise.resolve(),
  };
  let app: FastifyInstance;
  beforeAll(async () => {
    app = labPageApp(source);
    await app.ready();
  });
  afterAll(() => app.close());
  beforeEach(() => {
    asked.length = 0;
  });

  it('serves one self-contained page whose policy admits nothing from elsewhere', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).not.toMatch(/<(script|link|img)[^>]+(src|href)=["']?(https?:)?\/\//i);
    const csp = String(response.headers['content-security-policy']);
    expect(csp).toMatch(/default-src 'none'/);
    expect(csp).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).not.toMatch(/unsafe/);
    for (const id of ['sagas-by-state', 'oldest-in-flight', 'active-faults', 'verdict', 'reports'])
      expect(response.body).toContain(`data-testid="${id}"`);
  });

  it('answers the state, a database outage included, as JSON', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/state' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(response.json()).toEqual(state);
  });

  it('serves a report timeline as an SVG that cannot script the page', async () => {
    const response = await app.inject({ method: 'GET', url: '/reports/run-1/timeline.svg' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/svg+xml');
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'/);
    expect(response.body).toBe('<svg/>');
  });

  it.each([
    '/reports/run-2/timeline.svg',
    '/reports/run-1/report.md',
    '/reports/..%2F..%2Fetc/report.md',
    '/reports/%2e%2e/timeline.svg',
    '/reports/.hidden/timeline.svg',
    '/reports/run-1/other.txt',
    '/nothing',
  ])('answers 404 in the error format for %s', async (url) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
  });

  it('never asks the source for an id that is not a report id', async () => {
    await app.inject({ method: 'GET', url: '/reports/..%2Fsecret/timeline.svg' });
    await app.inject({ method: 'GET', url: '/reports/run-2/report.md' });
    expect(asked).toEqual([['run-2', 'report.md']]);
  });
});
