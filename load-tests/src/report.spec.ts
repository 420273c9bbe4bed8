import {
  formatMs,
  formatNumber,
  formatPercent,
  formatRate,
  formatUs,
  machineShort,
  renderReport,
  slug,
  updateResultsTable,
} from './report';
import type { AttackResult, ScenarioResult, SecondSample } from './result';

const seconds = (n: number, f: (t: number) => Partial<SecondSample>): SecondSample[] =>
  Array.from({ length: n }, (_, t) => ({
    t,
    requests: 1000,
    errors: 0,
    p50Ms: 0.8,
    p95Ms: 3,
    p99Ms: 12,
    ...f(t),
  }));

const read = (over: Partial<AttackResult>): AttackResult => ({
  name: 'read',
  offeredRate: 1000,
  durationS: 30,
  requests: 30000,
  achievedRate: 999.6,
  latency: { p50Ms: 0.84, p95Ms: 2.74, p99Ms: 13.29, maxMs: 1234.5 },
  errorRate: 0,
  statuses: { '200': 30000 },
  errors: {},
  series: seconds(30, () => ({})),
  ...over,
});

const result: ScenarioResult = {
  scenario: 'gateway-cache',
  title: 'Gateway product cache on vs off',
  question: 'How much CPU per request does the product cache save the gateway?',
  mode: 'full',
  startedAt: '2026-11-29T10:15:00.000Z',
  command: 'npm run load -- gateway-cache',
  generator: 'vegeta v12.12.0',
  machine: {
    cpus: 2,
    cpuModel: 'AMD EPYC 7B13',
    memoryGiB: 24,
    kernel: '6.18.44',
    node: 'v24.21.0',
    loadBefore: [0.52, 0.4, 0.31],
    loadAfter: [2.1, 1.2, 0.8],
  },
  baselineUsPerRequest: 40,
  passed: false,
  variants: [
    {
      name: 'cache on',
      attacks: [
        read({}),
        {
          ...read({}),
          name: 'place | order',
          offeredRate: 50,
          achievedRate: 49.75,
          requests: 1000,
          latency: { p50Ms: 9.96, p95Ms: 10.04, p99Ms: 48.5, maxMs: 9.1 },
          errorRate: 0.0125,
          statuses: { '201': 975, '503': 13, '0': 12 },
          errors: { 'context deadline exceeded': 12, '503 Service Unavailable': 13 },
          series: [],
        },
      ],
      processes: {
        gateway: { cpuPct: 61.4, cpuUsPerRequest: 583.25, rssBeforeMiB: 120, rssAfterMiB: 1536 },
        order: { cpuPct: 4.26, cpuUsPerRequest: 40.5, rssBeforeMiB: 80, rssAfterMiB: 81 },
        generator: { cpuPct: 35, cpuUsPerRequest: 333.3, rssBeforeMiB: 30, rssAfterMiB: 60 },
      },
      thresholds: [
        { attack: 'read', metric: 'p99Ms', max: 100, actual: 13.29, passed: true },
        { attack: 'place | order', metric: 'errorRate', max: 0.001, actual: 0.0125, passed: false },
      ],
      facts: { 'cache hit ratio': '99.8%', 'backend calls': 61234 },
      notes: ['The first second includes the cache warming.'],
    },
    {
      name: 'cache off',
      attacks: [read({ achievedRate: 812.44, latency: { p50Ms: 25, p95Ms: 180, p99Ms: 2500, maxMs: 9000 } })],
      processes: { gateway: { cpuPct: 97, cpuUsPerRequest: 1200, rssBeforeMiB: 118, rssAfterMiB: 130 } },
      thresholds: [],
    },
  ],
};

describe('number formatting', () => {
  it('formats rates, latencies, error rates and CPU', () => {
    expect(formatRate(12345.6)).toBe('12,346');
    expect(formatRate(49.75)).toBe('49.8');
    expect(formatRate(1000)).toBe('1,000');
    expect(formatMs(0.84)).toBe('0.8 ms');
    expect(formatMs(9.94)).toBe('9.9 ms');
    expect(formatMs(9.96)).toBe('10 ms');
    expect(formatMs(13.29)).toBe('13 ms');
    expect(formatMs(1234.5)).toBe('1,235 ms');
    expect(formatPercent(0)).toBe('0%');
    expect(formatPercent(0.0125)).toBe('1.25%');
    expect(formatPercent(0.000001)).toBe('< 0.01%');
    expect(formatPercent(0.5)).toBe('50.0%');
    expect(formatUs(583.25)).toBe('583.3');
    expect(formatUs(12345)).toBe('12,345.0');
    expect(formatNumber(-1234567.891, 2)).toBe('-1,234,567.89');
    expect(machineShort(result.machine)).toBe('2 vCPU AMD EPYC…, 24 GiB');
    expect(machineShort({ ...result.machine, cpuModel: 'Intel(R) Xeon(R) CPU @ 2.20GHz' })).toBe(
      '2 vCPU Intel Xeon…, 24 GiB',
    );
    expect(slug('Cache on (LRU) — v2')).toBe('cache-on-lru-v2');
  });
});

describe('renderReport', () => {
  const { markdown, charts } = renderReport(result);

  it('names the run, its verdict and its machine', () => {
    expect(markdown).toMatch(/^# Gateway product cache on vs off \(2026-11-29\)\n/);
    expect(markdown).toContain(
      '**Question:** How much CPU per request does the product cache save the gateway?',
    );
    expect(markdown).toContain(
      '**Verdict: FAIL** — 1 of 2 thresholds crossed: cache on · place | order error rate 1.25% (< 0.10%).',
    );
    expect(markdown).toContain('- Command: `npm run load -- gateway-cache`');
    expect(markdown).toContain('- Date: 2026-11-29 10:15 UTC\n');
    expect(markdown).toContain('- Generator: vegeta v12.12.0');
    expect(markdown).toContain('- Machine: 2 cores (AMD EPYC 7B13), 24 GiB, Linux 6.18.44, Node v24.21.0');
    expect(markdown).toContain('0.52 0.4 0.31 before, 2.1 1.2 0.8 after');
  });

  it('has one comparison row per variant and attack, numbers formatted', () => {
    expect(markdown).toContain(
      '| cache on | read | 1,000/s | 1,000/s | 0.8 ms | 2.7 ms | 13 ms | 1,235 ms | 0% | 200 × 30,000 |',
    );
    expect(markdown).toContain(
      '| cache on | place \\| order | 50/s | 49.8/s | 10 ms | 10 ms | 49 ms | 9.1 ms | 1.25% | 201 × 975, 503 × 13, no response × 12 |',
    );
    expect(markdown).toContain(
      '| cache off | read | 1,000/s | 812/s | 25 ms | 180 ms | 2,500 ms | 9,000 ms | 0% |',
    );
  });

  it('reports CPU and RSS per process, with the multiple of the baseline', () => {
    expect(markdown).toContain('40.0 µs, measured in the same run');
    expect(markdown).toContain('| process | CPU | CPU per request | × baseline | RSS before → after |');
    expect(markdown).toContain('| gateway | 61% | 583.3 µs | 14.6× | 120 → 1,536 MiB |');
    expect(markdown).toContain('| order | 4.3% | 40.5 µs | 1.01× | 80 → 81 MiB |');
    expect(markdown).toContain('| *all under test* | 66% | 623.8 µs | 15.6× | 200 → 1,617 MiB |');
    expect(markdown).toContain('| generator (load generator) | 35% | 333.3 µs | — | 30 → 60 MiB |');
    expect(markdown).toContain('| gateway | 97% | 1,200.0 µs | 30.0× | 118 → 130 MiB |');
    // The cache-off variant has one process under test: no sum row of its own.
    expect(markdown.match(/all under test/g)).toHaveLength(1);
    const without = renderReport({ ...result, baselineUsPerRequest: undefined }).markdown;
    expect(without).not.toContain('× baseline');
    expect(without).toContain('| gateway | 61% | 583.3 µs | 120 → 1,536 MiB |');
  });

  it('lists the thresholds with their actual values, ✓ and ✗', () => {
    expect(markdown).toContain('| cache on | read | p99 | < 100 ms | 13 ms | ✓ |');
    expect(markdown).toContain('| cache on | place \\| order | error rate | < 0.10% | 1.25% | ✗ |');
  });

  it('renders facts, notes, errors and links one chart per attack', () => {
    expect(markdown).toContain('- cache hit ratio: 99.8%\n- backend calls: 61,234\n');
    expect(markdown).toContain('The first second includes the cache warming.');
    expect(markdown).toContain(
      'Errors of place | order: `503 Service Unavailable` × 13; `context deadline exceeded` × 12.',
    );
    expect(Object.keys(charts).sort()).toEqual([
      'cache-off-read.svg',
      'cache-on-place-order.svg',
      'cache-on-read.svg',
    ]);
    for (const name of Object.keys(charts)) expect(markdown).toContain(`](${name})`);
    expect(markdown).toContain('![cache on — read](cache-on-read.svg)');
    const svg = charts['cache-on-read.svg'] as string;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    for (const legend of ['offered', 'responses', 'errors', 'p50', 'p95', 'p99'])
      expect(svg).toContain(`>${legend}</text>`);
    // The attack without a series still gives a chart, without NaN.
    expect(charts['cache-on-place-order.svg']).not.toMatch(/NaN|Infinity|undefined/);
    expect(markdown).not.toMatch(/NaN|undefined/);
  });

  it('says PASS when every threshold held, and marks a smoke run', () => {
    const passing: ScenarioResult = {
      ...result,
      mode: 'smoke',
      passed: true,
      variants: [{ ...result.variants[0]!, thresholds: [result.variants[0]!.thresholds[0]!] }],
    };
    const md = renderReport(passing).markdown;
    expect(md).toContain('**Verdict: PASS** — the threshold held.');
    expect(md).toContain('a smoke run');
    expect(md).not.toContain('✗');
  });
});

describe('updateResultsTable', () => {
  const created = updateResultsTable('', result, 'results/gateway-cache-2026-11-29/report.md');
  const rowsOf = (text: string): string[] => text.split('\n').filter((l) => /^\| (?!scenario |---)/.test(l));

  it('creates the file with a header and one row per variant and attack', () => {
    expect(created.startsWith('# Load test results\n\n')).toBe(true);
    expect(created).toContain('Server CPU');
    expect(rowsOf(created)).toEqual([
      '| gateway-cache | 2026-11-29 | 2 vCPU AMD EPYC…, 24 GiB | cache on | read | 1,000 → 1,000 | 0.8 / 2.7 / 13 | 0% | 623.8 | PASS | 40.0 | [report](results/gateway-cache-2026-11-29/report.md) |',
      '| gateway-cache | 2026-11-29 | 2 vCPU AMD EPYC…, 24 GiB | cache on | place \\| order | 50 → 49.8 | 10 / 10 / 49 | 1.25% | 623.8 | FAIL | 40.0 | [report](results/gateway-cache-2026-11-29/report.md) |',
      '| gateway-cache | 2026-11-29 | 2 vCPU AMD EPYC…, 24 GiB | cache off | read | 1,000 → 812 | 25 / 180 / 2,500 | 0% | 1,200.0 | — | 40.0 | [report](results/gateway-cache-2026-11-29/report.md) |',
    ]);
    expect(created.endsWith('|\n')).toBe(true);
  });

  it('replaces the rows of the same scenario, keeps the others sorted by scenario, and the text around', () => {
    const withOthers = updateResultsTable(
      updateResultsTable(
        created,
        { ...result, scenario: 'saga-throughput', variants: [result.variants[1]!] },
        'b.md',
      ),
      { ...result, scenario: 'auth-login', baselineUsPerRequest: undefined, variants: [result.variants[1]!] },
      'a.md',
    );
    const edited = `${withOthers}\nA paragraph after the table.\n`;
    const rerun: ScenarioResult = {
      ...result,
      startedAt: '2026-12-01T08:00:00.000Z',
      variants: [{ ...result.variants[1]!, name: 'cache off (again)' }],
    };
    const updated = updateResultsTable(edited, rerun, 'results/new.md');
    const rows = rowsOf(updated);
    expect(rows.map((r) => r.split(' | ').slice(0, 3).join(' | '))).toEqual([
      '| auth-login | 2026-11-29 | 2 vCPU AMD EPYC…, 24 GiB',
      '| gateway-cache | 2026-12-01 | 2 vCPU AMD EPYC…, 24 GiB',
      '| saga-throughput | 2026-11-29 | 2 vCPU AMD EPYC…, 24 GiB',
    ]);
    expect(rows[0]).toContain('| — | [report](a.md) |');
    expect(rows[1]).toContain('| cache off (again) | read |');
    expect(rows[1]).toContain('[report](results/new.md)');
    expect(updated).not.toContain('2026-11-29 | 2 vCPU AMD EPYC…, 24 GiB | cache on');
    expect(updated.startsWith('# Load test results\n\n')).toBe(true);
    expect(updated.endsWith('\nA paragraph after the table.\n')).toBe(true);
    expect(updated.match(/^\| scenario \|/gm)).toHaveLength(1);
    // The same run again changes nothing.
    expect(updateResultsTable(updated, rerun, 'results/new.md')).toBe(updated);
  });

  it('ignores smoke runs', () => {
    expect(updateResultsTable(created, { ...result, mode: 'smoke', scenario: 'other' }, 'x.md')).toBe(
      created,
    );
    expect(updateResultsTable('', { ...result, mode: 'smoke' }, 'x.md')).toBe('');
  });

  it('adds the table after text that has none', () => {
    const text = updateResultsTable('# Results\n\nNothing yet.\n', result, 'r.md');
    expect(text.startsWith('# Results\n\nNothing yet.\n\n| scenario |')).toBe(true);
    expect(rowsOf(text)).toHaveLength(3);
  });
});
