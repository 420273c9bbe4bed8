import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Verdict } from './checker';
import { recoveryMs, reportMarkdown, summaryTable, timelineSvg, writeReport, type RunResult } from './report';

const verdict: Verdict = {
  at: '2026-11-29T10:01:00.000Z',
  ok: false,
  ordersChecked: 3,
  invariants: [
    {
      name: 'lost-write',
      description: 'every acknowledged order exists',
      checked: true,
      holds: true,
      offending: [],
      offendingCount: 0,
      details: [],
    },
    {
      name: 'money',
      description: 'money',
      checked: true,
      holds: false,
      offending: ['o-1'],
      offendingCount: 1,
      details: ['o-1: CANCELLED; the provider has 0 captured and 500 held'],
    },
    {
      name: 'lost-message',
      description: 'messages',
      checked: false,
      holds: true,
      offending: [],
      offendingCount: 0,
      details: [],
    },
  ],
};

const result = (id: string): RunResult => ({
  id,
  experiment: 'provider-late-authorization-without-reconciliation',
  lesson: 'Without reconciliation the hold stays.',
  seed: 3,
  ratePerSecond: 4,
  durationMs: 8_000,
  convergeBoundMs: 45_000,
  startedAt: '2026-11-29T10:00:00.000Z',
  safeguardOff: 'reconciliation',
  expected: { caught: ['money'] },
  passed: true,
  orders: {
    planned: 32,
    acknowledged: 30,
    refused: 1,
    unknown: 1,
    retried: 4,
    terminal: { CONFIRMED: 12, CANCELLED: 18 },
  },
  faults: [{ name: 'provider: <late> & slow', fromMs: 2_000, toMs: 6_000, injectedAt: 'a', healedAt: 'b' }],
  healedAtMs: 8_200,
  convergedAtMs: null,
  perSecond: [
    { second: 0, accepted: 4, settled: 0 },
    { second: 1, accepted: 4, settled: 3 },
  ],
  samples: [{ orderId: 'o-1', status: 'CANCELLED', traceId: 'abc' }],
  zipkinUrl: 'http://127.0.0.1:9411',
  verdict,
  hardware: '2 × CPU',
});

describe('lab reports', () => {
  it('measures recovery: the first second after the fault healed with the backlog back to its level before the fault', () => {
    const second = (n: number, accepted: number, settled: number) => ({ second: n, accepted, settled });
    const run = {
      faults: [{ name: 'f', fromMs: 2_000, toMs: 4_000, injectedAt: '', healedAt: '' }],
      perSecond: [
        second(0, 4, 3), // 1 open
        second(1, 4, 4), // 1 open
        second(2, 4, 0), // 5 (fault)
        second(3, 4, 0), // 9 (fault)
        second(4, 4, 6), // 7
        second(5, 4, 9), // 2 — back to 1 + 1
      ],
    };
    expect(recoveryMs(run)).toBe(2_000);
    expect(recoveryMs({ ...run, perSecond: run.perSecond.slice(0, 5) })).toBeNull();
    expect(recoveryMs({ faults: [], perSecond: run.perSecond })).toBeNull();
  });

  it('draws the timeline: both series, the fault as a band (escaped), the heal line, no convergence line when it never converged', () => {
    const svg = timelineSvg(result('r1'));
    expect(svg.match(/<path /g)).toHaveLength(2);
    expect(svg).toContain('<title>provider: &lt;late&gt; &amp; slow</title>');
    expect(svg).toContain('>healed<');
    expect(svg).not.toContain('>converged<');
  });

  it('writes the markdown with the verdict per invariant, the offending ids, the reproduce command and trace links', () => {
    const md = reportMarkdown(result('r1'));
    expect(md).toContain(
      'npm run lab -- provider-late-authorization-without-reconciliation --seed 3 --rate 4 --duration 8',
    );
    expect(md).toContain(
      '| **money** — money | **violated** (1) | `o-1: CANCELLED; the provider has 0 captured and 500 held` |',
    );
    expect(md).toContain('| **lost-message** — messages | not checked |');
    expect(md).toContain('did not converge within 45 s');
    expect(md).toContain('[abc](http://127.0.0.1:9411/zipkin/traces/abc)');
  });

  it('keeps one index, newest first, and a run written again replaces its entry', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lab-reports-'));
    writeReport(dir, result('r1'));
    writeReport(dir, result('r2'));
    writeReport(dir, result('r1'));
    const index = JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8')) as {
      id: string;
      verdict: string;
    }[];
    expect(index.map((e) => e.id)).toEqual(['r1', 'r2']);
    expect(index[0]).toMatchObject({ verdict: 'pass', expected: 'caught', timeline: 'r1/timeline.svg' });
    expect(readFileSync(path.join(dir, 'README.md'), 'utf8')).toContain('| [r1](r1/report.md) |');
    expect(readFileSync(path.join(dir, 'r1', 'timeline.svg'), 'utf8')).toContain('<svg');
    const summary = summaryTable(dir);
    expect(summary.split('\n').filter((line) => line.startsWith('| ['))).toEqual([
      '| [provider-late-authorization-without-reconciliation](r1/report.md) | 3 | 4/s × 8 s | 30 | provider: <late> & slow 4.0 s | not while loaded | not within 45 s | money (1) | PASS |',
    ]);
  });
});
