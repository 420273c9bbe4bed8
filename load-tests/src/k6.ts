import type { AttackDef, Metric, Mode, Scenario, Threshold } from './scenario';

/**
 * The k6 script equivalent to a scenario, for users who run k6 themselves (this project neither provisions
 * nor runs k6: it is AGPL-licensed).
 *
 * One k6 scenario per attack of each variant, with a constant-arrival-rate executor (open model, like the
 * project's own generator) and its own exec function. The attacks of a variant start together; the variants
 * run one after another, each starting once the previous one's longest attack and its grace period for
 * requests still in flight are over, plus a gap. Request templates are rendered per iteration in k6's
 * JavaScript: `{{n}}` is the iteration's number in its k6 scenario (`exec.scenario.iterationInTest`, the
 * request's sequence number in its attack), `{{var:NAME}}` and `{{pick:NAME}}` read `__ENV` (checked in
 * `setup()`), `{{uuid}}` a local UUID v4 function (k6's runtime has no `crypto.randomUUID`).
 *
 * Thresholds keep the runner's semantics: a `max` bound passes below it (`<`), a `min` bound at or above it
 * (`>=`). An `achievedRate` bound becomes a bound on the scenario's request count (rate × duration): k6
 * computes a counter's rate over the whole test, which spans every variant, not over the scenario.
 */
export function exportK6(scenario: Scenario, mode: Mode): string {
  const names = new UniqueNames();
  const variants: VariantPlan[] = [];
  let startS = 0;
  for (const variant of scenario.variants) {
    const attacks = variant.attacks(mode);
    if (attacks.length === 0) continue;
    const plans = attacks.map((attack) =>
      planAttack(attack, names.take(`${slug(variant.name)}__${slug(attack.name)}`)),
    );
    const thresholds = variant.thresholds?.(mode) ?? [];
    for (const t of thresholds) {
      if (!plans.some((p) => p.attack.name === t.attack))
        throw new Error(
          `variant ${variant.name}: a threshold names the attack ${t.attack}, which the variant does not have`,
        );
    }
    variants.push({
      name: variant.name,
      hasPrepare: variant.prepare !== undefined,
      startS,
      plans,
      thresholds,
    });
    startS += Math.max(...plans.map((p) => p.attack.durationS + p.gracefulStopS)) + VARIANT_GAP_S;
  }
  if (variants.length === 0) throw new Error(`scenario ${scenario.name} has no attacks in ${mode} mode`);

  const plans = variants.flatMap((v) => v.plans);
  const vars = unique(plans.flatMap((p) => p.parts.filter(isKind('var')).map((part) => part.name)));
  const lists = unique(plans.flatMap((p) => p.parts.filter(isKind('pick')).map((part) => part.name)));
  const options = {
    discardResponseBodies: true,
    summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(50)', 'p(95)', 'p(99)'],
    scenarios: Object.fromEntries(
      variants.flatMap((v) =>
        v.plans.map((p) => [
          p.name,
          {
            executor: 'constant-arrival-rate',
            rate: p.attack.rate,
            timeUnit: '1s',
            duration: `${p.attack.durationS}s`,
            preAllocatedVUs: p.preAllocatedVUs,
            maxVUs: p.maxVUs,
            startTime: `${v.startS}s`,
            gracefulStop: `${p.gracefulStopS}s`,
            exec: p.name,
            tags: { variant: v.name, attack: p.attack.name },
          },
        ]),
      ),
    ),
    thresholds: k6Thresholds(variants),
  };

  const totalS = startS - VARIANT_GAP_S;
  const width = Math.max(0, ...[...vars, ...lists].map((name) => name.length));
  const header = [
    `k6 script for the load scenario "${scenario.name}" (${mode} sizes): ${scenario.title}`,
    scenario.question,
    '',
    'Generated from the scenario declaration by `npm run load -- export-k6 <scenario>`; edit the declaration,',
    'not this file. k6 is not provisioned or run by this project (it is AGPL-licensed): run it with a k6 of',
    'your own, e.g.',
    '',
    `  k6 run ${[...vars, ...lists].map((name) => `-e ${name}=… `).join('')}<this file>`,
    '',
    vars.length + lists.length === 0
      ? 'Variables: none.'
      : "Variables (the project's runner takes them from each variant's preparation; setup() stops the run " +
        'when one is missing):',
    ...vars.map((name) => `  ${name.padEnd(width)}  a value`),
    ...lists.map(
      (name) =>
        `  ${name.padEnd(width)}  a comma-separated list, taken round-robin by the request's sequence number`,
    ),
    '',
    `Variants, one after another (about ${totalS}s in all); the attacks of a variant run at the same time:`,
    ...variants.flatMap((v) => [
      `  from ${v.startS}s: ${v.name}${
        v.hasPrepare
          ? ' — the project prepares the system for this variant first; this script does not: put the system' +
            ' in that shape yourself'
          : ''
      }`,
      ...v.plans.map(
        (p) =>
          `    ${p.attack.name}: ${p.attack.rate}/s for ${p.attack.durationS}s, ${p.attack.request.method} ${p.attack.request.url}`,
      ),
    ]),
    '',
    "Differences from the project's own runs: k6 measures latency from when a request was sent, not from when",
    'it was scheduled, and drops an iteration when no VU is free (dropped_iterations) instead of sending it',
    'late, so an overloaded target shows fewer requests rather than longer latencies.',
  ];

  const out: string[] = [
    ...header.flatMap(lines).map((line) => (line ? `// ${line}` : '//')),
    "import http from 'k6/http';",
    "import exec from 'k6/execution';",
    '',
    `export const options = ${escapeSeparators(JSON.stringify(options, null, 2))};`,
    '',
    `const REQUIRED_VARS = ${JSON.stringify(vars)};`,
    `const REQUIRED_LISTS = ${JSON.stringify(lists)};`,
    '',
    '// The pick lists, split once per VU; empty items are ignored.',
    'const LISTS = {};',
    'for (const name of REQUIRED_LISTS) {',
    "  LISTS[name] = __ENV[name] === undefined ? [] : __ENV[name].split(',').filter((item) => item.length > 0);",
    '}',
    '',
    'export function setup() {',
    '  const missing = REQUIRED_VARS.filter((name) => __ENV[name] === undefined).concat(',
    '    REQUIRED_LISTS.filter((name) => LISTS[name].length === 0),',
    '  );',
    '  if (missing.length > 0) {',
    "    throw new Error('missing variables (pass them with -e NAME=value): ' + missing.join(', '));",
    '  }',
    '}',
    '',
    'function pick(name, n) {',
    '  const list = LISTS[name];',
    '  return list[n % list.length];',
    '}',
    '',
    '// A random UUID v4 (k6 has no crypto.randomUUID); unique enough for idempotency keys and names.',
    'function uuidv4() {',
    "  const hex = '0123456789abcdef';",
    "  let out = '';",
    '  for (let i = 0; i < 36; i++) {',
    "    if (i === 8 || i === 13 || i === 18 || i === 23) out += '-';",
    "    else if (i === 14) out += '4';",
    '    else if (i === 19) out += hex[8 + Math.floor(Math.random() * 4)];',
    '    else out += hex[Math.floor(Math.random() * 16)];',
    '  }',
    '  return out;',
    '}',
  ];
  for (const v of variants) {
    for (const p of v.plans) {
      const { request } = p.attack;
      const ok = p.attack.okStatuses?.length
        ? p.attack.okStatuses.map((s) => JSON.stringify(s)).join(', ')
        : '{ min: 200, max: 299 }';
      const headers = Object.entries(request.headers ?? {});
      out.push(
        '',
        `// ${lines(`${v.name} · ${p.attack.name}`).join(' ')}`,
        `const OK_${p.name} = http.expectedStatuses(${ok});`,
        `export function ${p.name}() {`,
        '  const n = exec.scenario.iterationInTest;',
        `  http.request(${js(request.method)}, ${render(request.url)}, ${
          request.body === undefined ? 'null' : render(request.body)
        }, {`,
        `    headers: {${headers.map(([k, value]) => ` ${js(k)}: ${render(value)}`).join(',')}${headers.length ? ' ' : ''}},`,
        `    timeout: ${js(`${p.timeoutS}s`)},`,
        // One name tag per attack: URLs with a UUID in them would otherwise make a metric series per request.
        `    tags: { name: ${js(`${v.name}/${p.attack.name}`)} },`,
        `    responseCallback: OK_${p.name},`,
        '  });',
        '}',
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** Expected latency the pre-allocated VUs are sized for, and the latency at full rate maxVUs allows. */
const EXPECTED_LATENCY_S = 0.05;
const WORST_LATENCY_S = 0.5;
const VARIANT_GAP_S = 5;
const DEFAULT_TIMEOUT_S = 10;

interface AttackPlan {
  readonly attack: AttackDef;
  /** The k6 scenario's name, which is also its exec function's name. */
  readonly name: string;
  readonly parts: readonly Part[];
  readonly timeoutS: number;
  readonly gracefulStopS: number;
  readonly preAllocatedVUs: number;
  readonly maxVUs: number;
}

interface VariantPlan {
  readonly name: string;
  readonly hasPrepare: boolean;
  readonly startS: number;
  readonly plans: readonly AttackPlan[];
  readonly thresholds: readonly Threshold[];
}

function planAttack(attack: AttackDef, name: string): AttackPlan {
  const { request } = attack;
  const texts = [request.url, ...Object.values(request.headers ?? {}), request.body ?? ''];
  const timeoutS = attack.timeoutS ?? DEFAULT_TIMEOUT_S;
  const preAllocatedVUs = Math.max(5, Math.ceil(attack.rate * EXPECTED_LATENCY_S));
  return {
    attack,
    name,
    parts: texts.flatMap(parse),
    timeoutS,
    // Requests still in flight when the attack ends get their full timeout before the next variant starts.
    gracefulStopS: timeoutS,
    preAllocatedVUs,
    maxVUs: Math.max(preAllocatedVUs * 2, 20, Math.ceil(attack.rate * WORST_LATENCY_S)),
  };
}

type Part =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'uuid' }
  | { readonly kind: 'n' }
  | { readonly kind: 'var'; readonly name: string }
  | { readonly kind: 'pick'; readonly name: string }
  | { readonly kind: 'key'; readonly name: string; readonly count: number };

const isKind =
  <K extends Part['kind']>(kind: K) =>
  (part: Part): part is Extract<Part, { kind: K }> =>
    part.kind === kind;

/** The placeholders the runner renders (load-tests/src/scenario.ts); any other `{{…}}` is literal text. */
const PLACEHOLDER = /\{\{(uuid|n|var:[A-Za-z0-9_]+|pick:[A-Za-z0-9_]+|key:[A-Za-z0-9_-]+:\d+)\}\}/g;

function parse(text: string): Part[] {
  const parts: Part[] = [];
  let at = 0;
  for (const match of text.matchAll(PLACEHOLDER)) {
    const index = match.index;
    if (index > at) parts.push({ kind: 'text', text: text.slice(at, index) });
    const p = match[1] as string;
    if (p === 'uuid' || p === 'n') parts.push({ kind: p });
    else if (p.startsWith('var:')) parts.push({ kind: 'var', name: p.slice(4) });
    else if (p.startsWith('pick:')) parts.push({ kind: 'pick', name: p.slice(5) });
    else {
      const [, name = '', count = '1'] = p.split(':');
      if (Number(count) < 1) throw new Error(`{{${p}}} needs at least one key`);
      parts.push({ kind: 'key', name, count: Number(count) });
    }
    at = index + match[0].length;
  }
  if (at < text.length) parts.push({ kind: 'text', text: text.slice(at) });
  return parts;
}

/** A template as a k6 JavaScript string expression (`n` is the iteration's number). */
function render(text: string): string {
  const parts = parse(text);
  if (parts.length === 0) return '""';
  const exprs = parts.map((part): string => {
    switch (part.kind) {
      case 'text':
        return js(part.text);
      case 'uuid':
        return 'uuidv4()';
      case 'n':
        return 'n';
      case 'var':
        return /^[A-Za-z_]\w*$/.test(part.name) ? `__ENV.${part.name}` : `__ENV[${js(part.name)}]`;
      case 'pick':
        return `pick(${js(part.name)}, n)`;
      case 'key':
        return `${js(`${part.name}-`)} + (n % ${part.count})`;
    }
  });
  // A leading string makes every `+` a concatenation (`n + n` would add).
  return parts[0]?.kind === 'text' || parts[0]?.kind === 'key'
    ? exprs.join(' + ')
    : ['""', ...exprs].join(' + ');
}

/** A JavaScript string literal (JSON's, with the two line separators JSON leaves raw escaped too). */
function js(text: string): string {
  return escapeSeparators(JSON.stringify(text));
}

function escapeSeparators(json: string): string {
  return json.replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A text's lines, split at every JavaScript line terminator (a comment ends at any of them). */
function lines(text: string): string[] {
  return text.split(/\r\n|[\n\r\u2028\u2029]/);
}

const K6_AGGREGATION: Readonly<Record<Metric, { metric: string; stat: string }>> = {
  p50Ms: { metric: 'http_req_duration', stat: 'p(50)' },
  p95Ms: { metric: 'http_req_duration', stat: 'p(95)' },
  p99Ms: { metric: 'http_req_duration', stat: 'p(99)' },
  maxMs: { metric: 'http_req_duration', stat: 'max' },
  errorRate: { metric: 'http_req_failed', stat: 'rate' },
  achievedRate: { metric: 'http_reqs', stat: 'count' },
};

function k6Thresholds(variants: readonly VariantPlan[]): Record<string, string[]> {
  const thresholds: Record<string, string[]> = {};
  for (const v of variants) {
    for (const t of v.thresholds) {
      const plan = v.plans.find((p) => p.attack.name === t.attack) as AttackPlan;
      const { metric, stat } = K6_AGGREGATION[t.metric];
      // A rate over the attack's duration, as a count of requests (see exportK6).
      const scale = (bound: number): number =>
        t.metric === 'achievedRate' ? Math.round(bound * plan.attack.durationS * 1000) / 1000 : bound;
      const key = `${metric}{scenario:${plan.name}}`;
      const list = (thresholds[key] ??= []);
      if (t.max !== undefined) list.push(`${stat}<${scale(t.max)}`);
      if (t.min !== undefined) list.push(`${stat}>=${scale(t.min)}`);
    }
  }
  return thresholds;
}

/** A k6 scenario name and exec function name: letters, digits and underscores, not starting with a digit. */
function slug(name: string): string {
  const s = name.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return s === '' ? 'x' : /^[0-9]/.test(s) ? `_${s}` : s;
}

class UniqueNames {
  private readonly taken = new Set<string>();
  take(name: string): string {
    let candidate = name;
    for (let i = 2; this.taken.has(candidate); i++) candidate = `${name}_${i}`;
    this.taken.add(candidate);
    return candidate;
  }
}

function unique(names: readonly string[]): string[] {
  return [...new Set(names)].sort();
}
