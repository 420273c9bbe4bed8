import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { k6Run } from '../shared/k6';
import { cpuBetween, sampleCpu } from './cpu';
import { seconds, type Settings, type TargetName } from './settings';

export interface Step {
  readonly rate: number;
  readonly durationS: number;
  readonly requests: number;
  /** Requests completed ÷ step duration. */
  readonly achievedRate: number;
  readonly errorRate: number;
  readonly dropped: number;
  readonly droppedShare: number;
  readonly latencyMs: { p50: number; p95: number; p99: number; max: number };
  readonly statuses: { ok: number; tooMany: number; serverError: number; other: number };
  /** Over the k6 process's lifetime: see cpuBetween. */
  readonly cpu: Record<string, number>;
  readonly holds: boolean;
}

export interface Target {
  readonly name: TargetName;
  readonly url: string;
  readonly description: string;
  readonly serverPids: readonly number[];
  readonly authorization?: () => Promise<string>;
}

export interface TargetResult {
  readonly name: TargetName;
  readonly url: string;
  readonly description: string;
  readonly serverPids: readonly number[];
  readonly loadAverageBefore: number[];
  readonly steps: Step[];
  /** Rates not run because the ladder stopped after STOP_AFTER steps in a row that did not hold. */
  readonly skippedRates: number[];
  readonly maxRate: number | null;
  /** True when the ladder's highest rate held: the real maximum is at least maxRate (add higher RATES). */
  readonly maxIsLowerBound: boolean;
  /** The server's CPU time per request at the maximum (µs): a cost that does not depend on k6. */
  readonly serverUsPerRequestAtMax: number | null;
  /** What ran out at the first step above the maximum, from the CPU figures. */
  readonly limit: string;
}

/** The part of k6's end-of-test summary (handleSummary's data) that max-rate.k6.js writes to SUMMARY_FILE. */
export interface K6Summary {
  metrics: Record<string, { values: Record<string, number> } | undefined>;
}

/** A step's figures from k6's summary; `cpu` gets the request count for the per-request cost. */
export function stepOf(
  summary: K6Summary,
  rate: number,
  durationS: number,
  s: Pick<Settings, 'maxErrorRate' | 'maxDroppedShare'>,
  cpu: (requests: number) => Record<string, number>,
): Step {
  const metric = (name: string, value: string): number => summary.metrics[name]?.values[value] ?? 0;
  const requests = metric('http_reqs', 'count');
  const dropped = metric('dropped_iterations', 'count');
  const errorRate = metric('http_req_failed', 'rate');
  const scheduled = rate * durationS;
  const round = (n: number, digits = 2): number => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    rate,
    durationS,
    requests,
    achievedRate: Math.round(requests / durationS),
    errorRate: round(errorRate, 5),
    dropped,
    droppedShare: round(dropped / scheduled, 5),
    latencyMs: {
      p50: round(metric('http_req_duration', 'p(50)')),
      p95: round(metric('http_req_duration', 'p(95)')),
      p99: round(metric('http_req_duration', 'p(99)')),
      max: round(metric('http_req_duration', 'max')),
    },
    statuses: {
      ok: requests - metric('http_req_failed', 'passes'),
      tooMany: metric('status_429', 'count'),
      serverError: metric('status_5xx', 'count'),
      other: metric('status_other', 'count'),
    },
    cpu: cpu(requests),
    holds: errorRate < s.maxErrorRate && dropped <= scheduled * s.maxDroppedShare,
  };
}

async function k6Step(
  k6: string,
  s: Settings,
  target: Target,
  rate: number,
  duration: string,
): Promise<Step> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-bench-'));
  const summaryFile = path.join(dir, 'summary.json');
  const durationS = seconds('DURATION', duration);
  const authorization = target.authorization ? await target.authorization() : undefined;
  const { args, env } = k6Run(path.join(__dirname, 'max-rate.k6.js'), {
    TARGET_URL: target.url,
    RATE: String(rate),
    DURATION: duration,
    SUMMARY_FILE: summaryFile,
    MAX_ERROR_RATE: String(s.maxErrorRate),
    MAX_DROPPED_SHARE: String(s.maxDroppedShare),
    ...(authorization ? { AUTHORIZATION: authorization } : {}),
  });
  const child = spawn(k6, args, { env, stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pid = child.pid ?? -1;
  const sampling = sampleCpu([...target.serverPids, pid], pid);
  const killer = setTimeout(() => child.kill('SIGKILL'), (durationS + 60) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => {
    sampling.stop();
    clearTimeout(killer);
  });
  // 99: a threshold was crossed — the step did not hold, which is a result, not a failure of the run.
  if (code !== 0 && code !== 99) throw new Error(`k6 exited with ${code ?? 'a signal'}:\n${stderr}`);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as K6Summary;
  return stepOf(summary, rate, durationS, s, (requests) =>
    cpuBetween(sampling.first, sampling.last, { server: target.serverPids, k6: [pid] }, requests),
  );
}

/** Names what ran out at the first step above the maximum: the server's own cores, the machine, or neither. */
export function limitOf(steps: readonly Step[], best: Step | undefined, serverProcesses: number): string {
  const over = steps.find((st) => !st.holds && st.rate > (best?.rate ?? 0));
  if (!over) return 'not reached';
  const { serverPct = 0, k6Pct = 0, machineBusyPct = 0 } = over.cpu;
  const figures = `at ${over.rate}/s the server used ${serverPct}% of one core, k6 ${k6Pct}%, the machine ${machineBusyPct}% of all cores`;
  if (serverProcesses > 0 && serverPct >= 80 * serverProcesses)
    return `the server (its cores were busy): ${figures}`;
  if (machineBusyPct >= 80) return `the machine (k6 and the server together filled the cores): ${figures}`;
  return `not CPU (neither the server nor the machine was busy; see latency and errors): ${figures}`;
}

/** Runs a target's ladder of rates, one k6 step after the other, and finds its maximum. */
export async function ladder(k6: string, s: Settings, target: Target): Promise<TargetResult> {
  const loadAverageBefore = os.loadavg().map((n) => Math.round(n * 100) / 100);
  const lowest = s.rates[0] ?? 1000;
  if (seconds('WARMUP', s.warmup) > 0) {
    process.stderr.write(`… ${target.name}: warm-up at ${lowest}/s for ${s.warmup} (not recorded)\n`);
    await k6Step(k6, s, target, lowest, s.warmup);
    await sleep(2_000);
  }
  const steps: Step[] = [];
  let failedInARow = 0;
  for (const rate of s.rates) {
    if (failedInARow >= s.stopAfter) break;
    const step = await k6Step(k6, s, target, rate, s.duration);
    steps.push(step);
    failedInARow = step.holds ? 0 : failedInARow + 1;
    process.stderr.write(
      `${step.holds ? '✓' : '✗'} ${target.name}: ${rate}/s → ${step.achievedRate}/s, p50 ${step.latencyMs.p50} ms, ` +
        `p99 ${step.latencyMs.p99} ms, errors ${(step.errorRate * 100).toFixed(2)}%, dropped ${step.dropped}, ` +
        `CPU server ${step.cpu['serverPct']}% k6 ${step.cpu['k6Pct']}% other ${step.cpu['otherPct']}%\n`,
    );
    await sleep(2_000); // let sockets in TIME_WAIT and the garbage collector settle between steps
  }
  const held = steps.filter((st) => st.holds);
  const best = held.reduce<Step | undefined>(
    (a, b) => (a && a.achievedRate >= b.achievedRate ? a : b),
    undefined,
  );
  return {
    name: target.name,
    url: target.url,
    description: target.description,
    serverPids: target.serverPids,
    loadAverageBefore,
    steps,
    skippedRates: s.rates.slice(steps.length),
    maxRate: best?.achievedRate ?? null,
    maxIsLowerBound: steps.length === s.rates.length && steps.at(-1)?.holds === true,
    serverUsPerRequestAtMax:
      best && target.serverPids.length > 0 ? (best.cpu['serverUsPerRequest'] ?? null) : null,
    limit: limitOf(steps, best, target.serverPids.length),
  };
}
