import { ConsulRegistration, consulClient } from '@saga-lab/discovery';
import { requireEnv, uniqueName, waitUntil } from '@saga-lab/testing';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { alertRulesFile, findPromtool } from '../src/components/prometheus';
import { silentReporter } from '../src/progress';
import { createContext } from '../src/stack';

const rulesFile = alertRulesFile(path.resolve(__dirname, '../../..'));
const rulesTestFile = path.join(path.dirname(rulesFile), 'alerts.test.yml');
const alertNames = [...readFileSync(rulesFile, 'utf8').matchAll(/^\s*- alert: (\S+)\s*$/gm)].map(
  (m) => m[1] as string,
);

interface Run {
  readonly code: number;
  readonly output: string;
}

function promtool(...args: string[]): Promise<Run> {
  const binary = findPromtool(createContext(process.env, silentReporter()));
  if (!binary) {
    throw new Error(
      'promtool is not there: it is built with the stack’s Prometheus (`npm run stack -- up prometheus`), or put one on PATH.',
    );
  }
  return new Promise((resolve) => {
    execFile(binary, args, { cwd: path.dirname(rulesFile), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}` });
    });
  });
}

/**
 * Which alerts the unit tests expect to fire and which to stay quiet, read from alerts.test.yml's
 * `alertname:` lines and the `exp_alerts:` line after each (an empty list: a quiet case).
 */
function casesPerAlert(testFile: string): Map<string, { firing: number; quiet: number }> {
  const cases = new Map<string, { firing: number; quiet: number }>();
  const lines = testFile.split('\n');
  lines.forEach((line, i) => {
    const name = /^\s*alertname: (\S+)\s*$/.exec(line)?.[1];
    const expected = /^\s*exp_alerts:(.*)$/.exec(lines[i + 1] ?? '')?.[1]?.trim();
    if (!name || expected === undefined) return;
    const count = cases.get(name) ?? { firing: 0, quiet: 0 };
    if (expected === '[]') count.quiet += 1;
    else count.firing += 1;
    cases.set(name, count);
  });
  return cases;
}

describe('alert rules (infra/prometheus/alerts.yml, checked by promtool)', () => {
  it('defines the alerts the stack is meant to raise', () => {
    expect([...alertNames].sort()).toEqual([
      'CircuitBreakerOpen',
      'ConsumerLagGrowing',
      'DeadLetters',
      'OrderApiErrorBudgetBurn',
      'OutboxBacklog',
      'SagaStuckPastDeadline',
    ]);
  });

  it('pass `promtool check rules`', async () => {
    const run = await promtool('check', 'rules', rulesFile);
    expect(run).toEqual({
      code: 0,
      output: expect.stringContaining(`SUCCESS: ${alertNames.length} rules found`),
    });
  });

  it('pass their unit tests (`promtool test rules`)', async () => {
    // On a failure, promtool prints the case, the alert and the expected and actual alerts: the message shows them.
    const run = await promtool('test', 'rules', rulesTestFile);
    expect(run).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  // promtool says nothing per alert on success, so the coverage is checked here, one line per alert.
  const cases = casesPerAlert(readFileSync(rulesTestFile, 'utf8'));
  it.each(alertNames)('%s has a unit test where it fires and one where it stays quiet', (name) => {
    expect(cases.get(name)).toEqual({ firing: expect.any(Number), quiet: expect.any(Number) });
    expect(cases.get(name)?.firing).toBeGreaterThan(0);
    expect(cases.get(name)?.quiet).toBeGreaterThan(0);
  });
});

interface ApiResponse<T> {
  readonly status: string;
  readonly data: T;
}

describe('Prometheus (started by the stack)', () => {
  const prometheus = requireEnv('PROMETHEUS_URL');
  const consulAddress = requireEnv('CONSUL_HTTP_ADDR');

  const api = async <T>(pathAndQuery: string): Promise<T> => {
    const response = await fetch(`${prometheus}${pathAndQuery}`, { signal: AbortSignal.timeout(5_000) });
    expect(response.status).toBe(200);
    return ((await response.json()) as ApiResponse<T>).data;
  };

  it('runs the saga-lab job with Consul discovery of the four services, and the repository’s alert rules', async () => {
    const { yaml } = await api<{ yaml: string }>('/api/v1/status/config');
    const job = yaml.slice(yaml.indexOf('- job_name: saga-lab'));
    expect(job).toMatch(/^- job_name: saga-lab$/m);
    expect(job).toMatch(/^ {2}metrics_path: \/metrics$/m);
    expect(job).toContain(`server: ${consulAddress.replace(/^https?:\/\//, '')}`);
    expect(job).toMatch(/services:\n\s+- inventory\n\s+- payment\n\s+- order\n\s+- gateway\n/);
    expect(job).toMatch(/source_labels: \[__meta_consul_service\][\s\S]*?target_label: service/);
    expect(yaml).toContain(rulesFile);

    const { groups } = await api<{ groups: { name: string; file: string; rules: { name: string }[] }[] }>(
      '/api/v1/rules?type=alert',
    );
    const group = groups.find((g) => g.name === 'saga-lab');
    expect(group?.file).toBe(rulesFile);
    expect(group?.rules.map((r) => r.name).sort()).toEqual([...alertNames].sort());
  });

  describe('with an instance of its own registered in Consul as `inventory`', () => {
    const probe = uniqueName('int-prometheus');
    let server: http.Server;
    let registration: ConsulRegistration;

    beforeAll(async () => {
      server = http.createServer((req, res) => {
        if (req.url === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(`# TYPE saga_lab_int_probe gauge\nsaga_lab_int_probe{probe="${probe}"} 1\n`);
        } else {
          // Never ready: the instance stays out of Consul's passing set, so no service that discovers
          // `inventory` through Consul ever calls it. Prometheus scrapes every registered instance.
          res.writeHead(503).end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      registration = new ConsulRegistration(consulClient(consulAddress), {
        name: 'inventory',
        id: `${probe}-inventory`,
        address: '127.0.0.1',
        port,
        healthUrl: `http://127.0.0.1:${port}/health/ready`,
      });
      await registration.register();
    });

    afterAll(async () => {
      await registration?.deregister();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    });

    it('discovers it through Consul and scrapes its /metrics, labelled with the service', async () => {
      const query = encodeURIComponent(`saga_lab_int_probe{probe="${probe}"}`);
      const [sample] = await waitUntil(
        async () => {
          const { result } = await api<{ result: { metric: Record<string, string> }[] }>(
            `/api/v1/query?query=${query}`,
          );
          return result.length > 0 ? result : undefined;
        },
        { timeoutMs: 45_000, intervalMs: 1_000, what: 'Prometheus to scrape the instance found in Consul' },
      );
      const { port } = server.address() as AddressInfo;
      expect(sample?.metric).toEqual({
        __name__: 'saga_lab_int_probe',
        probe,
        job: 'saga-lab',
        service: 'inventory',
        instance: `127.0.0.1:${port}`,
      });
    }, 60_000);
  });
});
