import { requireEnv } from '@saga-lab/testing';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

describe('k6 (built by the stack)', () => {
  let server: http.Server;
  let served = 0;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      served += 1;
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('drives a fixed arrival rate at a loopback server and reports what it sent', async () => {
    const { port } = server.address() as AddressInfo;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k6-'));
    const script = path.join(dir, 'smoke.js');
    const summary = path.join(dir, 'summary.json');
    writeFileSync(
      script,
      `import http from 'k6/http';
import { check } from 'k6';
export const options = {
  scenarios: { smoke: { executor: 'constant-arrival-rate', rate: 50, timeUnit: '1s', duration: '2s', preAllocatedVUs: 20 } },
  thresholds: { checks: ['rate==1'] },
};
export default function () {
  check(http.get('http://127.0.0.1:${port}/'), { 'status is 200': (r) => r.status === 200 });
}
`,
    );
    await execFileAsync(
      requireEnv('K6_BIN'),
      ['run', '--quiet', '--no-usage-report', '--summary-export', summary, script],
      {
        env: { ...process.env, K6_NO_USAGE_REPORT: 'true' },
      },
    );
    const metrics = (
      JSON.parse(readFileSync(summary, 'utf8')) as { metrics: Record<string, Record<string, number>> }
    ).metrics;
    const sent = metrics['http_reqs']?.['count'] ?? 0;
    const dropped = metrics['dropped_iterations']?.['count'] ?? 0;
    // constant-arrival-rate starts rate × duration iterations (k6 may start one more at the closing
    // boundary); each one is either sent or reported dropped.
    expect(sent + dropped).toBeGreaterThanOrEqual(100);
    expect(sent + dropped).toBeLessThanOrEqual(101);
    expect(sent).toBe(served);
    expect(metrics['checks']?.['fails'] ?? 0).toBe(0);
  }, 30_000);
});
