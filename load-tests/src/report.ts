import type {
  AttackResult,
  MachineInfo,
  ProcessFigures,
  ScenarioResult,
  ThresholdOutcome,
  VariantResult,
} from './result';
import type { Metric } from './scenario';
import { stackedCharts, type Series } from './svg';

/** The label of the load generator's own figures among a variant's processes. */
const GENERATOR = 'generator';

/**
 * A run's report: the markdown file and its charts (SVG text by file name, `<variant>-<attack>.svg`, linked
 * from the markdown by that relative name). Renders only, writes nothing.
 */
export function renderReport(result: ScenarioResult): { markdown: string; charts: Record<string, string> } {
  const charts: Record<string, string> = {};
  const chartNames = new Map<AttackResult, string>();
  const taken = new Set<string>();
  for (const v of result.variants) {
    for (const a of v.attacks) {
      const base = `${slug(v.name)}-${slug(a.name)}`;
      let name = `${base}.svg`;
      for (let i = 2; taken.has(name); i++) name = `${base}-${i}.svg`;
      taken.add(name);
      chartNames.set(a, name);
      charts[name] = attackChart(v.name, a);
    }
  }

  const outcomes = result.variants.flatMap((v) => v.thresholds.map((t) => ({ variant: v.name, t })));
  const failed = outcomes.filter((o) => !o.t.passed);
  const lines: string[] = [
    `# ${text(result.title)} (${result.startedAt.slice(0, 10)})`,
    '',
    `**Question:** ${text(result.question)}`,
    '',
    `**Verdict: ${result.passed ? 'PASS' : 'FAIL'}** — ${verdictText(outcomes.length, failed)}`,
    '',
    `- Command: \`${code(result.command)}\``,
    `- Date: ${formatDate(result.startedAt)}${result.mode === 'smoke' ? ' — a smoke run (small sizes, to keep the scenario working: not a measurement)' : ''}`,
    `- Generator: ${text(result.generator)}`,
    `- Machine: ${machineLong(result.machine)}`,
    `- Load average (1, 5, 15 min): ${result.machine.loadBefore.join(' ')} before, ${result.machine.loadAfter.join(' ')} after`,
    '',
    'The variants ran one after another on the same machine, each alone; the attacks of a variant ran at the',
    'same time, each at a constant arrival rate (open model: requests are sent on schedule whatever the',
    'responses). Latency counts from the moment a request was scheduled, so a generator that falls behind',
    'cannot hide the wait. Errors are responses with a status the attack does not accept, timeouts and',
    'connection errors.',
    '',
    '## Results',
    '',
    '| variant | attack | offered | achieved | p50 | p95 | p99 | max | errors | statuses |',
    '|---|---|--:|--:|--:|--:|--:|--:|--:|---|',
    ...result.variants.flatMap((v) =>
      v.attacks.map(
        (a) =>
          `| ${cell(v.name)} | ${cell(a.name)} | ${formatRate(a.offeredRate)}/s | ${formatRate(a.achievedRate)}/s | ` +
          `${formatMs(a.latency.p50Ms)} | ${formatMs(a.latency.p95Ms)} | ${formatMs(a.latency.p99Ms)} | ` +
          `${formatMs(a.latency.maxMs)} | ${formatPercent(a.errorRate)} | ${cell(statusesText(a.statuses))} |`,
      ),
    ),
    '',
    '## CPU and memory',
    '',
    "CPU in % of one core over the attacks; CPU per request is the process's CPU time divided by the requests",
    'of all the attacks running at the time. RSS is the resident memory before and after the variant.',
    result.baselineUsPerRequest === undefined
      ? ''
      : `× baseline: the CPU per request as a multiple of a bare node:http server's, ${formatUs(
          result.baselineUsPerRequest,
        )} µs, measured in the same run.`,
    '',
  ];
  for (const v of result.variants) lines.push(...cpuTable(v, result.baselineUsPerRequest), '');

  lines.push('## Thresholds', '');
  if (outcomes.length === 0) lines.push('None: this scenario only measures.', '');
  else {
    lines.push(
      '| variant | attack | metric | bound | actual | |',
      '|---|---|---|---|--:|---|',
      ...outcomes.map(
        ({ variant, t }) =>
          `| ${cell(variant)} | ${cell(t.attack)} | ${METRIC_NAMES[t.metric]} | ${boundText(t)} | ` +
          `${formatMetric(t.metric, t.actual)} | ${t.passed ? '✓' : '✗'} |`,
      ),
      '',
    );
  }

  for (const v of result.variants) {
    lines.push(`## ${text(v.name)}`, '');
    const facts = Object.entries(v.facts ?? {});
    if (facts.length) {
      lines.push(
        ...facts.map(
          ([k, value]) => `- ${text(k)}: ${typeof value === 'number' ? formatNumber(value) : text(value)}`,
        ),
        '',
      );
    }
    for (const failure of v.failures ?? []) lines.push(`✗ ${text(failure)}`, '');
    // Notes are the runner's and the scenarios' own markdown (tables, a plan in a code block): kept as is.
    for (const note of v.notes ?? []) lines.push(note, '');
    for (const a of v.attacks) {
      const errors = Object.entries(a.errors).sort((x, y) => y[1] - x[1]);
      if (errors.length) {
        lines.push(
          `Errors of ${text(a.name)}: ${errors
            .slice(0, 5)
            .map(([message, count]) => `\`${code(message)}\` × ${formatNumber(count)}`)
            .join('; ')}${errors.length > 5 ? `; and ${errors.length - 5} other kinds` : ''}.`,
          '',
        );
      }
      lines.push(`![${text(v.name)} — ${text(a.name)}](${chartNames.get(a)})`, '');
    }
  }
  return {
    markdown: `${lines
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd()}\n`,
    charts,
  };
}

/**
 * `load-tests/RESULTS.md` with a full run's rows in its table: the rows of the same scenario are replaced
 * (not added to), rows are sorted by scenario name, and the text around the table is kept. A smoke run
 * leaves the text unchanged; an empty text becomes a new file with a header explaining the columns.
 * `reportPath` is the report's path relative to RESULTS.md.
 */
export function updateResultsTable(existing: string, result: ScenarioResult, reportPath: string): string {
  if (result.mode !== 'full') return existing;
  const scenarioCell = cell(result.scenario);
  const newRows = resultRows(result, reportPath);

  const lines = existing.split('\n');
  const start = lines.findIndex(
    (line, i) => isTableHeader(line) && /^\|[\s|:-]+\|\s*$/.test(lines[i + 1] ?? ''),
  );
  if (start === -1) {
    const table = [TABLE_HEADER, TABLE_RULE, ...newRows].join('\n');
    if (existing.trim() === '') return `${RESULTS_INTRO}\n${table}\n`;
    return `${existing.trimEnd()}\n\n${table}\n`;
  }
  let end = start + 2;
  while (end < lines.length && (lines[end] as string).trimStart().startsWith('|')) end++;
  const kept = lines.slice(start + 2, end).filter((row) => splitRow(row)[0] !== scenarioCell);
  // Stable: rows of one scenario keep their order (variants, then attacks).
  const rows = [...kept, ...newRows].sort((a, b) => compare(splitRow(a)[0] ?? '', splitRow(b)[0] ?? ''));
  return [...lines.slice(0, start), TABLE_HEADER, TABLE_RULE, ...rows, ...lines.slice(end)].join('\n');
}

const TABLE_HEADER =
  '| scenario | date | machine | variant | attack | offered → achieved req/s | p50 / p95 / p99 ms | errors | server CPU µs/req | verdict | baseline µs/req | report |';
const TABLE_RULE = '|---|---|---|---|---|--:|--:|--:|--:|---|--:|---|';

const RESULTS_INTRO = [
  '# Load test results',
  '',
  'The latest full run of each scenario, one row per variant and attack (a new run of a scenario replaces its',
  'rows; its report has the command). Offered → achieved: the constant arrival rate asked for and the',
  'responses per second obtained. Latencies count from when each request was scheduled. Errors: share of',
  'requests without an accepted status (timeouts and connection errors included). Server CPU: CPU time per',
  'request of the processes under test (the load generator excluded), summed. Verdict: whether the thresholds',
  "on that attack held (— when it has none; the run's verdict is in its report). Baseline: a bare node:http",
  "server's CPU per request measured in the same run, when the scenario took one. Figures only compare within",
  'one machine: its cores and memory are in the machine column.',
  '',
].join('\n');

function isTableHeader(line: string): boolean {
  const cells = splitRow(line);
  return cells[0] === 'scenario' && cells.includes('variant') && cells.includes('attack');
}

function resultRows(result: ScenarioResult, reportPath: string): string[] {
  const machine = machineShort(result.machine);
  const date = result.startedAt.slice(0, 10);
  const baseline = result.baselineUsPerRequest === undefined ? '—' : formatUs(result.baselineUsPerRequest);
  const link = `[report](${/[\s()<>]/.test(reportPath) ? `<${reportPath.replace(/[<>]/g, encodeURIComponent)}>` : reportPath})`;
  return result.variants.flatMap((v) => {
    const server = serverUsPerRequest(v);
    return v.attacks.map((a) => {
      const own = v.thresholds.filter((t) => t.attack === a.name);
      const verdict = own.length === 0 ? '—' : own.every((t) => t.passed) ? 'PASS' : 'FAIL';
      return (
        `| ${cell(result.scenario)} | ${date} | ${cell(machine)} | ${cell(v.name)} | ${cell(a.name)} | ` +
        `${formatRate(a.offeredRate)} → ${formatRate(a.achievedRate)} | ` +
        `${formatMs(a.latency.p50Ms, false)} / ${formatMs(a.latency.p95Ms, false)} / ${formatMs(a.latency.p99Ms, false)} | ` +
        `${formatPercent(a.errorRate)} | ${server === undefined ? '—' : formatUs(server)} | ${verdict} | ${baseline} | ${link} |`
      );
    });
  });
}

/** The CPU per request of the processes under test (all but the generator), summed; none when there are none. */
function serverUsPerRequest(v: VariantResult): number | undefined {
  const server = Object.entries(v.processes).filter(([label]) => label !== GENERATOR);
  return server.length === 0 ? undefined : server.reduce((sum, [, p]) => sum + p.cpuUsPerRequest, 0);
}

function cpuTable(v: VariantResult, baseline: number | undefined): string[] {
  const entries = Object.entries(v.processes);
  const server = entries.filter(([label]) => label !== GENERATOR);
  const generator = entries.filter(([label]) => label === GENERATOR);
  const withBaseline = baseline !== undefined && baseline > 0;
  const row = (label: string, p: ProcessFigures, isServer: boolean): string =>
    `| ${label} | ${formatCpuPct(p.cpuPct)} | ${formatUs(p.cpuUsPerRequest)} µs |` +
    (withBaseline ? ` ${isServer ? `${formatRatio(p.cpuUsPerRequest / baseline)}` : '—'} |` : '') +
    ` ${formatMiB(p.rssBeforeMiB)} → ${formatMiB(p.rssAfterMiB)} MiB |`;
  const out = [
    `**${text(v.name)}**`,
    '',
    `| process | CPU | CPU per request |${withBaseline ? ' × baseline |' : ''} RSS before → after |`,
    `|---|--:|--:|${withBaseline ? '--:|' : ''}---|`,
    ...server.map(([label, p]) => row(cell(label), p, true)),
  ];
  if (server.length > 1) {
    const sum = (f: (p: ProcessFigures) => number): number => server.reduce((s, [, p]) => s + f(p), 0);
    out.push(
      row(
        '*all under test*',
        {
          cpuPct: sum((p) => p.cpuPct),
          cpuUsPerRequest: sum((p) => p.cpuUsPerRequest),
          rssBeforeMiB: sum((p) => p.rssBeforeMiB),
          rssAfterMiB: sum((p) => p.rssAfterMiB),
        },
        true,
      ),
    );
  }
  out.push(...generator.map(([label, p]) => row(`${label} (load generator)`, p, false)));
  if (entries.length === 0) out.push(`| none measured | | |${withBaseline ? ' |' : ''} |`);
  return out;
}

function attackChart(variant: string, a: AttackResult): string {
  const series = [...a.series].sort((x, y) => x.t - y.t);
  const ts = series.map((s) => s.t);
  const first = ts.length ? Math.min(...ts) : 0;
  const last = ts.length ? Math.max(...ts) : a.durationS;
  const throughput: Series[] = [
    {
      name: 'offered',
      points: [
        [first, a.offeredRate],
        [Math.max(last, first + 1), a.offeredRate],
      ],
    },
    { name: 'responses', points: series.map((s) => [s.t, s.requests]) },
  ];
  const errors: Series[] = [{ name: 'errors', points: series.map((s) => [s.t, s.errors]), color: '#d62728' }];
  const latency: Series[] = [
    { name: 'p50', points: series.map((s) => [s.t, s.p50Ms]) },
    { name: 'p95', points: series.map((s) => [s.t, s.p95Ms]) },
    { name: 'p99', points: series.map((s) => [s.t, s.p99Ms]) },
  ];
  // A log axis when the tail is far above the median, so the median stays readable.
  const positive = series
    .flatMap((s) => [s.p50Ms, s.p95Ms, s.p99Ms])
    .filter((x) => x > 0 && Number.isFinite(x));
  const yLog = positive.length > 0 && Math.max(...positive) / Math.min(...positive) > 50;
  const xLabel = 'seconds since the attack began (by scheduled send time)';
  const title = `${variant} — ${a.name}`;
  return stackedCharts(title, [
    { title: `${title}: requests per second`, xLabel, yLabel: 'req/s', series: throughput, height: 260 },
    { title: `${title}: errors per second`, xLabel, yLabel: 'errors/s', series: errors, height: 200 },
    { title: `${title}: latency per second`, xLabel, yLabel: 'ms', series: latency, yLog, height: 280 },
  ]);
}

const METRIC_NAMES: Readonly<Record<Metric, string>> = {
  p50Ms: 'p50',
  p95Ms: 'p95',
  p99Ms: 'p99',
  maxMs: 'max',
  errorRate: 'error rate',
  achievedRate: 'achieved rate',
};

function formatMetric(metric: Metric, value: number): string {
  if (metric === 'errorRate') return formatPercent(value);
  if (metric === 'achievedRate') return `${formatRate(value)}/s`;
  return formatMs(value);
}

function boundText(t: ThresholdOutcome): string {
  // The runner's semantics: a max passes below it, a min at or above it.
  const parts: string[] = [];
  if (t.min !== undefined) parts.push(`≥ ${formatMetric(t.metric, t.min)}`);
  if (t.max !== undefined) parts.push(`< ${formatMetric(t.metric, t.max)}`);
  return parts.join(' and ') || 'none';
}

function verdictText(total: number, failed: readonly { variant: string; t: ThresholdOutcome }[]): string {
  if (total === 0) return 'no thresholds: the run only measures.';
  if (failed.length === 0) return total === 1 ? 'the threshold held.' : `all ${total} thresholds held.`;
  return `${failed.length} of ${total} threshold${total === 1 ? '' : 's'} crossed: ${failed
    .map(
      ({ variant, t }) =>
        `${text(variant)} · ${text(t.attack)} ${METRIC_NAMES[t.metric]} ${formatMetric(t.metric, t.actual)} (${boundText(t)})`,
    )
    .join('; ')}.`;
}

function machineLong(m: MachineInfo): string {
  return `${m.cpus} cores (${text(m.cpuModel)}), ${formatNumber(m.memoryGiB)} GiB, Linux ${text(m.kernel)}, Node ${text(m.node)}`;
}

/** E.g. "2 vCPU AMD EPYC…, 24 GiB": the first two words of the CPU model, trademarks dropped. */
export function machineShort(m: MachineInfo): string {
  const words = m.cpuModel
    .replace(/\((R|TM|tm|r)\)/g, '')
    .split(/\s+/)
    .filter((w) => w !== '' && w.toLowerCase() !== 'cpu' && w !== '@');
  const model = words.length > 2 ? `${words.slice(0, 2).join(' ')}…` : words.join(' ') || 'unknown CPU';
  return `${m.cpus} vCPU ${model}, ${formatNumber(m.memoryGiB)} GiB`;
}

function statusesText(statuses: Readonly<Record<string, number>>): string {
  const entries = Object.entries(statuses).sort((a, b) => b[1] - a[1] || compare(a[0], b[0]));
  if (entries.length === 0) return '—';
  return entries
    .map(([status, count]) => `${status === '0' ? 'no response' : status} × ${formatNumber(count)}`)
    .join(', ');
}

function formatDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** Thousands separators, with `decimals` decimals (trailing zeros kept). */
export function formatNumber(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return String(value);
  const fixed = Math.abs(value).toFixed(decimals);
  const [int = '0', frac] = fixed.split('.');
  const sign = value < 0 && Number(fixed) !== 0 ? '-' : '';
  return `${sign}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac ? `.${frac}` : ''}`;
}

/** A rate in requests per second: whole numbers from 100 up, one decimal below. */
export function formatRate(value: number): string {
  return formatNumber(value, Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : 1);
}

/** A latency: one decimal under 10 ms, whole milliseconds from there. */
export function formatMs(value: number, unit = true): string {
  return `${formatNumber(value, below(value, 10, 1))}${unit ? ' ms' : ''}`;
}

/** A share as a percentage: "0%" only when nothing failed, "< 0.01%" for a few in a million. */
export function formatPercent(share: number): string {
  if (share === 0) return '0%';
  const pct = share * 100;
  if (Math.abs(pct) < 0.01) return '< 0.01%';
  return `${formatNumber(pct, below(pct, 10, 2) || 1)}%`;
}

/** `decimals` when the value, rounded to them, is below `limit` (9.96 ms is "10 ms", not "10.0 ms"); else 0. */
function below(value: number, limit: number, decimals: number): number {
  return Math.abs(Number(value.toFixed(decimals))) < limit ? decimals : 0;
}

/** Microseconds of CPU, one decimal. */
export function formatUs(value: number): string {
  return formatNumber(value, 1);
}

function formatCpuPct(value: number): string {
  return `${formatNumber(value, below(value, 10, 1))}%`;
}

function formatMiB(value: number): string {
  return formatNumber(value, Math.abs(value) < 10 && !Number.isInteger(value) ? 1 : 0);
}

function formatRatio(value: number): string {
  return `${formatNumber(value, below(value, 10, 2) || 1)}×`;
}

/** File-name form of a name: lower case letters, digits and dashes. */
export function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return s === '' ? 'x' : s;
}

/** Text on one markdown line. */
function text(value: string): string {
  return value.replace(/\s*[\r\n]+\s*/g, ' ');
}

/** Text in a markdown table cell. */
function cell(value: string): string {
  return text(value).replace(/\|/g, '\\|');
}

/** Text inside backticks. */
function code(value: string): string {
  return text(value).replace(/`/g, "'");
}

/** The cells of a markdown table row, as written (escaped pipes stay in their cell). */
function splitRow(line: string): string[] {
  const trimmed = line.trim();
  if (!trimmed.startsWith('|')) return [];
  return trimmed
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
