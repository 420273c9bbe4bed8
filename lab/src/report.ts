import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Verdict } from './checker';
import type { Expectation } from './experiments';

export interface FaultWindow {
  readonly name: string;
  /** ms from the workload's start */
  readonly fromMs: number;
  readonly toMs: number;
  readonly injectedAt: string;
  readonly healedAt: string;
}

export interface SampleSaga {
  readonly orderId: string;
  readonly status: string;
  readonly traceId: string | null;
}

/** Everything a run produced: result.json, and what the markdown and the picture are drawn from. */
export interface RunResult {
  readonly id: string;
  readonly experiment: string;
  readonly lesson: string;
  readonly seed: number;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  readonly convergeBoundMs: number;
  readonly startedAt: string;
  readonly safeguardOff: string | null;
  readonly expected: Expectation;
  readonly passed: boolean;
  readonly orders: {
    readonly planned: number;
    readonly acknowledged: number;
    readonly refused: number;
    readonly unknown: number;
    readonly retried: number;
    readonly terminal: Record<string, number>;
  };
  readonly faults: readonly FaultWindow[];
  /** ms from the workload's start at which every fault was healed, and when the system converged (null: never). */
  readonly healedAtMs: number;
  readonly convergedAtMs: number | null;
  /** Per second from the workload's start: orders acknowledged, orders reaching a terminal state. */
  readonly perSecond: readonly {
    readonly second: number;
    readonly accepted: number;
    readonly settled: number;
  }[];
  readonly samples: readonly SampleSaga[];
  readonly zipkinUrl: string | null;
  readonly verdict: Verdict;
  readonly hardware: string;
}

export interface IndexEntry {
  readonly id: string;
  readonly experiment: string;
  readonly seed: number;
  readonly startedAt: string;
  readonly ok: boolean;
  readonly expected: 'holds' | 'caught';
  readonly verdict: 'pass' | 'fail';
  readonly report: string;
  readonly timeline: string;
}

/**
 * How long after its last fault healed the run took to work off what the fault left behind: the first
 * second from which the orders accepted but not yet settled are back to the most there were in any second
 * before the first fault (+ 1). The workload keeps running meanwhile, so this is recovery under load, not
 * the final drain (which the convergence time measures). null when there was no fault, or no recovery.
 */
export function recoveryMs(result: Pick<RunResult, 'faults' | 'perSecond'>): number | null {
  if (result.faults.length === 0) return null;
  const firstFault = Math.min(...result.faults.map((f) => f.fromMs)) / 1000;
  const healed = Math.max(...result.faults.map((f) => f.toMs)) / 1000;
  let accepted = 0;
  let settled = 0;
  let before = 0;
  for (const p of result.perSecond) {
    accepted += p.accepted;
    settled += p.settled;
    const open = Math.max(0, accepted - settled);
    if (p.second + 1 <= firstFault) before = Math.max(before, open);
    else if (p.second >= Math.floor(healed) && open <= before + 1)
      return Math.max(0, (p.second + 1) * 1000 - healed * 1000);
  }
  return null;
}

const expectationText = (e: Expectation): string =>
  'holds' in e ? 'every invariant holds' : `the checker catches ${e.caught.join(' or ')}`;

const esc = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * The timeline picture: orders accepted and settled per second (two lines), fault windows as shaded
 * bands, the heal instant and the convergence instant as vertical lines. Plain SVG, no dependencies.
 */
export function timelineSvg(result: RunResult): string {
  const width = 760;
  const height = 260;
  const left = 44;
  const right = 16;
  const top = 28;
  const bottom = 40;
  const seconds = Math.max(
    1,
    ...result.perSecond.map((p) => p.second + 1),
    Math.ceil((result.convergedAtMs ?? result.healedAtMs) / 1000) + 1,
  );
  const peak = Math.max(1, ...result.perSecond.flatMap((p) => [p.accepted, p.settled]));
  const x = (second: number): number => left + ((width - left - right) * second) / seconds;
  const y = (value: number): number => top + (height - top - bottom) * (1 - value / peak);
  const line = (key: 'accepted' | 'settled'): string =>
    result.perSecond
      .map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.second + 0.5).toFixed(1)},${y(p[key]).toFixed(1)}`)
      .join(' ');
  const bands = result.faults
    .map(
      (f) =>
        `<rect x="${x(f.fromMs / 1000).toFixed(1)}" y="${top}" width="${Math.max(2, x(f.toMs / 1000) - x(f.fromMs / 1000)).toFixed(1)}" height="${height - top - bottom}" fill="#f4a261" fill-opacity="0.3"><title>${esc(f.name)}</title></rect>` +
        `<text x="${(x(f.fromMs / 1000) + 3).toFixed(1)}" y="${top + 12}" font-size="10" fill="#9c4a12">${esc(f.name.slice(0, 48))}</text>`,
    )
    .join('');
  const marker = (ms: number | null, label: string, color: string): string =>
    ms === null
      ? ''
      : `<line x1="${x(ms / 1000).toFixed(1)}" x2="${x(ms / 1000).toFixed(1)}" y1="${top}" y2="${height - bottom}" stroke="${color}" stroke-dasharray="4 3"/>` +
        `<text x="${(x(ms / 1000) + 3).toFixed(1)}" y="${height - bottom - 6}" font-size="10" fill="${color}">${label}</text>`;
  const step = [1, 2, 5, 10, 15, 30, 60, 120, 300].find((s) => seconds / s <= 8) ?? 600;
  const ticks = Array.from({ length: Math.floor(seconds / step) + 1 }, (_, i) => i * step)
    .map(
      (s) =>
        `<text x="${x(s).toFixed(1)}" y="${height - bottom + 14}" font-size="10" text-anchor="middle" fill="#444">${s}s</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" role="img" aria-label="${esc(result.experiment)} timeline">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${left}" y="16" font-size="12" font-weight="bold">${esc(result.experiment)} · seed ${result.seed} · ${result.passed ? 'PASS' : 'FAIL'} (${esc(expectationText(result.expected))})</text>
${bands}
<line x1="${left}" x2="${width - right}" y1="${height - bottom}" y2="${height - bottom}" stroke="#888"/>
<line x1="${left}" x2="${left}" y1="${top}" y2="${height - bottom}" stroke="#888"/>
<text x="${left - 6}" y="${top + 4}" font-size="10" text-anchor="end" fill="#444">${peak}</text>
<text x="${left - 6}" y="${height - bottom}" font-size="10" text-anchor="end" fill="#444">0</text>
${ticks}
<path d="${line('accepted')}" fill="none" stroke="#2a6f97" stroke-width="2"/>
<path d="${line('settled')}" fill="none" stroke="#2a9d8f" stroke-width="2" stroke-dasharray="6 2"/>
${marker(result.healedAtMs, 'healed', '#6c757d')}
${marker(result.convergedAtMs, 'converged', '#2a9d8f')}
<text x="${left}" y="${height - 8}" font-size="11" fill="#2a6f97">— accepted / s</text>
<text x="${left + 110}" y="${height - 8}" font-size="11" fill="#2a9d8f">- - settled / s</text>
<text x="${left + 220}" y="${height - 8}" font-size="11" fill="#9c4a12">▮ fault</text>
</svg>
`;
}

const recovered = (result: RunResult): string => {
  const ms = recoveryMs(result);
  return result.faults.length === 0
    ? 'no fault window (the switches apply to the whole run)'
    : ms === null
      ? 'the backlog the fault left did not clear while orders kept coming'
      : `backlog of unsettled orders back to its pre-fault level ${(ms / 1000).toFixed(0)} s after the fault healed`;
};

export function reportMarkdown(result: RunResult): string {
  const t = result.orders.terminal;
  const converge =
    result.convergedAtMs === null
      ? `did not converge within ${result.convergeBoundMs / 1000} s of healing`
      : `${((result.convergedAtMs - result.healedAtMs) / 1000).toFixed(1)} s after the workload ended and every fault was healed`;
  const trace = (s: SampleSaga): string =>
    s.traceId && result.zipkinUrl
      ? `[${s.traceId}](${result.zipkinUrl}/zipkin/traces/${s.traceId})`
      : 'not sampled';
  return `# ${result.experiment} — ${result.passed ? 'PASS' : 'FAIL'}

${result.lesson}

| | |
|---|---|
| Run | \`${result.id}\` (started ${result.startedAt}) |
| Reproduce | \`npm run lab -- ${result.experiment} --seed ${result.seed} --rate ${result.ratePerSecond} --duration ${result.durationMs / 1000}\` |
| Safeguard off | ${result.safeguardOff ?? 'none'} |
| Expected | ${expectationText(result.expected)} |
| Orders | ${result.orders.planned} planned, **${result.orders.acknowledged} acknowledged**, ${result.orders.refused} refused at the edge, ${result.orders.unknown} never answered; ${result.orders.retried} needed retries |
| Terminal states | CONFIRMED ${t['CONFIRMED'] ?? 0}, REJECTED ${t['REJECTED'] ?? 0}, CANCELLED ${t['CANCELLED'] ?? 0}, not terminal ${t['PENDING'] ?? 0} |
| Recovered | ${recovered(result)} |
| Converged | ${converge} |
| Machine | ${result.hardware} |

![timeline](timeline.svg)

## Faults

| Fault | From | To | Injected at | Healed at |
|---|---|---|---|---|
${result.faults.map((f) => `| ${f.name} | ${(f.fromMs / 1000).toFixed(1)} s | ${(f.toMs / 1000).toFixed(1)} s | ${f.injectedAt} | ${f.healedAt} |`).join('\n') || '| (none: the switches above are the fault) | | | | |'}

## Invariants (${result.verdict.ordersChecked} orders checked)

| Invariant | Verdict | Offending ids |
|---|---|---|
${result.verdict.invariants
  .map(
    (i) =>
      `| **${i.name}** — ${i.description} | ${!i.checked ? 'not checked' : i.holds ? 'holds' : `**violated** (${i.offendingCount})`} | ${i.details.map((d) => `\`${d}\``).join('<br>')} |`,
  )
  .join('\n')}

## Sample sagas

| Order | Final state | Trace |
|---|---|---|
${result.samples.map((s) => `| \`${s.orderId}\` | ${s.status} | ${trace(s)} |`).join('\n') || '| (no orders) | | |'}
`;
}

/** Writes a run's files and puts it at the top of the index (index.json for the lab page, README.md for people). */
export function writeReport(reportsDir: string, result: RunResult): IndexEntry {
  const dir = path.join(reportsDir, result.id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(dir, 'timeline.svg'), timelineSvg(result));
  writeFileSync(path.join(dir, 'report.md'), reportMarkdown(result));
  const entry: IndexEntry = {
    id: result.id,
    experiment: result.experiment,
    seed: result.seed,
    startedAt: result.startedAt,
    ok: result.verdict.ok,
    expected: 'holds' in result.expected ? 'holds' : 'caught',
    verdict: result.passed ? 'pass' : 'fail',
    report: `${result.id}/report.md`,
    timeline: `${result.id}/timeline.svg`,
  };
  const indexFile = path.join(reportsDir, 'index.json');
  const index = existsSync(indexFile) ? (JSON.parse(readFileSync(indexFile, 'utf8')) as IndexEntry[]) : [];
  const next = [entry, ...index.filter((e) => e.id !== entry.id)];
  writeFileSync(indexFile, `${JSON.stringify(next, null, 2)}\n`);
  writeFileSync(
    path.join(reportsDir, 'README.md'),
    `# Failure-lab reports\n\nWritten by \`npm run lab\`, newest first. Each links its report and timeline.\n\n| Run | Experiment | Seed | Expected | Invariants | Result |\n|---|---|---|---|---|---|\n${next
      .map(
        (e) =>
          `| [${e.id}](${e.report}) | ${e.experiment} | ${e.seed} | ${e.expected} | ${e.ok ? 'all hold' : 'violated'} | ${e.verdict === 'pass' ? 'PASS' : '**FAIL**'} |`,
      )
      .join('\n')}\n`,
  );
  return entry;
}

/**
 * The newest run of each experiment as one markdown table: experiment, seed, orders acknowledged, faults,
 * time to converge, violations, result — what a full pass (`npm run lab -- all`) is summed up by.
 */
export function summaryTable(reportsDir: string): string {
  const indexFile = path.join(reportsDir, 'index.json');
  if (!existsSync(indexFile)) return 'No reports yet: run an experiment (npm run lab -- <experiment>).\n';
  const index = JSON.parse(readFileSync(indexFile, 'utf8')) as IndexEntry[];
  const newest = new Map<string, IndexEntry>();
  for (const entry of index) if (!newest.has(entry.experiment)) newest.set(entry.experiment, entry);
  const rows = [...newest.values()].reverse().map((entry) => {
    const r = JSON.parse(readFileSync(path.join(reportsDir, entry.id, 'result.json'), 'utf8')) as RunResult;
    const converge =
      r.convergedAtMs === null
        ? `not within ${r.convergeBoundMs / 1000} s`
        : `${((r.convergedAtMs - r.healedAtMs) / 1000).toFixed(1)} s`;
    const recovery = recoveryMs(r);
    const recoveredText =
      r.faults.length === 0
        ? '—'
        : recovery === null
          ? 'not while loaded'
          : `${(recovery / 1000).toFixed(0)} s`;
    const violations = r.verdict.invariants
      .filter((i) => !i.holds)
      .map((i) => `${i.name} (${i.offendingCount})`);
    const faults =
      r.faults.map((f) => `${f.name} ${((f.toMs - f.fromMs) / 1000).toFixed(1)} s`).join('; ') ||
      'switches only';
    return `| [${r.experiment}](${entry.report}) | ${r.seed} | ${r.ratePerSecond}/s × ${r.durationMs / 1000} s | ${r.orders.acknowledged} | ${faults} | ${recoveredText} | ${converge} | ${violations.join(', ') || 'none'} | ${r.passed ? 'PASS' : '**FAIL**'} |`;
  });
  return `| experiment | seed | workload | orders acknowledged | faults | recovered after the fault | converged after the workload | violations | result |\n|---|---|---|---|---|---|---|---|---|\n${rows.join('\n')}\n`;
}
