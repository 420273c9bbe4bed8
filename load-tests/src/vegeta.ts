import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { AttackResult, SecondSample } from './result';
import type { AttackDef } from './scenario';
import { compile, isPerRequest, period, type LoadRequest } from './template';

/**
 * The load generator: vegeta (MIT), an open-model constant-rate HTTP attacker, provisioned by the stack
 * (`VEGETA_BIN`). It sends each request at its scheduled time whatever the earlier ones are doing, and
 * records every result; this module feeds it targets and reads its results back.
 */

/** vegeta's JSON target format: headers as lists, the body base64. */
export function toTarget(request: LoadRequest): string {
  return JSON.stringify({
    method: request.method,
    url: request.url,
    header: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, [v]])),
    ...(request.body === undefined ? {} : { body: Buffer.from(request.body).toString('base64') }),
  });
}

/** Most distinct requests written to a fixed target list that vegeta cycles round-robin. */
const MAX_FIXED_TARGETS = 100_000;

export interface RunningAttack {
  readonly pid: number;
  readonly done: Promise<AttackResult>;
}

/**
 * Starts one attack. Requests with per-request data (`{{uuid}}`, `{{n}}`) are streamed to vegeta's stdin
 * as it needs them (`-lazy`); the others are written once as a fixed list it cycles through.
 */
export function startAttack(
  bin: string,
  def: AttackDef,
  vars: Readonly<Record<string, string>>,
  dir: string,
): RunningAttack {
  const render = compile(def.request, vars);
  const lazy = isPerRequest(def.request);
  const resultsFile = path.join(dir, `${def.name}.bin`);
  const args = [
    'attack',
    '-format=json',
    `-rate=${def.rate}/1s`,
    `-duration=${def.durationS}s`,
    `-timeout=${def.timeoutS ?? 10}s`,
    '-max-body=0',
    // Bounded concurrency: past it, requests wait for a free worker and that wait counts as latency (from
    // the scheduled time). Unbounded, an overloaded target makes the generator open thousands of
    // connections and starve the machine it shares (a metastable collapse measured at 10k/s here).
    `-workers=${Math.max(10, Math.ceil(def.rate / 500))}`,
    `-max-workers=${def.maxWorkers ?? Math.max(64, Math.ceil(def.rate / 50))}`,
    `-name=${def.name}`,
    `-output=${resultsFile}`,
  ];
  let targetsWritten: Promise<void> = Promise.resolve();
  if (lazy) args.push('-lazy');
  else {
    const targetsFile = path.join(dir, `${def.name}.targets.jsonl`);
    const count = Math.min(MAX_FIXED_TARGETS, period(def.request, vars));
    const lines: string[] = [];
    for (let n = 0; n < count; n++) lines.push(toTarget(render(n)));
    args.push(`-targets=${targetsFile}`);
    const out = createWriteStream(targetsFile);
    out.end(`${lines.join('\n')}\n`);
    targetsWritten = once(out, 'finish').then(() => undefined);
  }
  let pid = -1;
  const done = (async (): Promise<AttackResult> => {
    await targetsWritten;
    // A less eager Go garbage collector: about a tenth less CPU per request for the generator here.
    const child = spawn(bin, args, {
      stdio: [lazy ? 'pipe' : 'ignore', 'ignore', 'pipe'],
      env: { ...process.env, GOGC: process.env['GOGC'] ?? '400' },
    });
    pid = child.pid ?? -1;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'close') as Promise<[number | null]>;
    if (lazy && child.stdin)
      void feed(child.stdin, render, Math.ceil(def.rate * def.durationS * 1.05) + 100).catch(() => undefined);
    const [code] = await exited;
    if (code !== 0) throw new Error(`vegeta attack ${def.name} failed (exit ${code}): ${stderr.trim()}`);
    return readResults(bin, resultsFile, def);
  })();
  return {
    get pid() {
      return pid;
    },
    done,
  };
}

/**
 * Writes rendered targets as vegeta reads them (a pipe's backpressure paces the writing). vegeta closes
 * its end when the attack's duration is over: the writes then fail (EPIPE), and the feeding stops.
 */
async function feed(
  stdin: NodeJS.WritableStream,
  render: (n: number) => LoadRequest,
  count: number,
): Promise<void> {
  let closed = false;
  const ended = new Promise<void>((resolve) => {
    const end = (): void => {
      closed = true;
      resolve();
    };
    stdin.once('close', end);
    stdin.once('error', end);
  });
  stdin.on('error', () => undefined);
  for (let n = 0; n < count && !closed; n++) {
    if (!stdin.write(`${toTarget(render(n))}\n`)) {
      const drained = new Promise<void>((resolve) => stdin.once('drain', resolve));
      await Promise.race([drained, ended]);
    }
  }
  if (!closed) stdin.end();
}

/** One result of `vegeta encode -to=csv`. */
export interface Hit {
  /** When vegeta sent it, and how long the response took, in ms. */
  readonly sentMs: number;
  readonly latencyMs: number;
  readonly code: number;
  readonly error: string;
  readonly seq: number;
}

/**
 * Parses one CSV line of `vegeta encode -to=csv`: timestamp (ns since the epoch), code, latency (ns),
 * bytes out, bytes in, error, body (base64), attack name, seq, method, url, headers. Only the error field
 * can hold commas or quotes (it is then quoted).
 */
export function parseHit(line: string): Hit | undefined {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length && fields.length < 9) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) return undefined;
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
        } else {
          i = q + 2; // past the quote and the comma
          break;
        }
      }
      fields.push(value);
    } else {
      const c = line.indexOf(',', i);
      const end = c < 0 ? line.length : c;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  if (fields.length < 9) return undefined;
  const [timestamp, code, latency, , , error, , , seq] = fields as [string, ...string[]];
  return {
    sentMs: Number(BigInt(timestamp) / 1000n) / 1000,
    latencyMs: Number(latency) / 1e6,
    code: Number(code),
    error: error ?? '',
    seq: Number(seq),
  };
}

async function readResults(bin: string, file: string, def: AttackDef): Promise<AttackResult> {
  const child = spawn(bin, ['encode', '-to=csv', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  const hits: Hit[] = [];
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const hit = parseHit(line);
    if (hit) hits.push(hit);
  }
  await once(child, 'close');
  return summarize(def, hits);
}

const percentile = (sorted: Float64Array, q: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number);

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * The attack's figures. Latency counts from each request's *scheduled* time — the attack's start plus
 * seq / rate — so a generator that fell behind schedule (no worker free, CPU starved) cannot hide the wait:
 * no coordinated omission. The start is estimated as the earliest `sent − seq / rate`.
 */
export function summarize(def: AttackDef, hits: readonly Hit[]): AttackResult {
  const ok = new Set(def.okStatuses ?? []);
  const isOk = (code: number): boolean => (ok.size > 0 ? ok.has(code) : code >= 200 && code < 300);
  const intervalMs = 1000 / def.rate;
  let began = Infinity;
  for (const hit of hits) began = Math.min(began, hit.sentMs - hit.seq * intervalMs);
  const latencies = new Float64Array(hits.length);
  const seconds = new Map<number, { latencies: number[]; errors: number }>();
  const statuses: Record<string, number> = {};
  const errors: Record<string, number> = {};
  let failed = 0;
  let okCount = 0;
  let lastDone = 0;
  hits.forEach((hit, i) => {
    const scheduled = began + hit.seq * intervalMs;
    const latency = hit.sentMs + hit.latencyMs - scheduled;
    latencies[i] = latency;
    lastDone = Math.max(lastDone, hit.sentMs + hit.latencyMs - began);
    statuses[String(hit.code)] = (statuses[String(hit.code)] ?? 0) + 1;
    // vegeta puts a non-2xx status into the error field too: a status decides; no status means no answer.
    const good = hit.code !== 0 && isOk(hit.code);
    if (good) okCount++;
    else {
      failed++;
      const reason = hit.code === 0 ? hit.error || 'no response' : `status ${hit.code}`;
      errors[reason] = (errors[reason] ?? 0) + 1;
    }
    const second = Math.floor((hit.seq * intervalMs) / 1000);
    const bucket = seconds.get(second) ?? { latencies: [], errors: 0 };
    bucket.latencies.push(latency);
    if (!good) bucket.errors++;
    seconds.set(second, bucket);
  });
  latencies.sort();
  const series: SecondSample[] = [...seconds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, bucket]) => {
      const sorted = Float64Array.from(bucket.latencies).sort();
      return {
        t,
        requests: sorted.length,
        errors: bucket.errors,
        p50Ms: round(percentile(sorted, 0.5)),
        p95Ms: round(percentile(sorted, 0.95)),
        p99Ms: round(percentile(sorted, 0.99)),
      };
    });
  const topErrors = Object.entries(errors)
    .sort(([, a], [, b]) => b - a)
    .slice(0, 10);
  return {
    name: def.name,
    offeredRate: def.rate,
    durationS: def.durationS,
    requests: hits.length,
    achievedRate: round(okCount / Math.max(def.durationS, lastDone / 1000), 1),
    latency: {
      p50Ms: round(percentile(latencies, 0.5)),
      p95Ms: round(percentile(latencies, 0.95)),
      p99Ms: round(percentile(latencies, 0.99)),
      maxMs: round(percentile(latencies, 1)),
    },
    errorRate: hits.length === 0 ? 1 : round(failed / hits.length, 6),
    statuses,
    errors: Object.fromEntries(topErrors),
    series,
  };
}
