/**
 * The gateway's maximum rate, as a ratio against a bare `node:http` hello world measured in the same run on
 * the same machine (docs/architecture.md §10). For each target — the hello world (started here as a child
 * process), then the gateway's cached product read (`GET /v1/products/{id}` with a bearer token, one login up
 * front) — the k6 scenario max-rate.k6.js runs at each arrival rate of a ladder, one target at a time. Writes
 * load-tests/results/gateway-<date>.json and .md with the machine it ran on.
 *
 *   npm start                # the stack, with the gateway on GATEWAY_URL (default http://127.0.0.1:3000)
 *   npm run load:gateway     # the demo user comes from GATEWAY_DEMO_USER / GATEWAY_DEMO_PASSWORD
 *   RATES=1000,2000,4000 DURATION=10s TARGETS=hello-world npm run load:gateway   # the baseline alone
 *
 * A step holds when fewer than MAX_ERROR_RATE (1%) of its requests failed (non-200, timeout, connection
 * error) and k6 dropped at most MAX_DROPPED_SHARE (1%) of the iterations it had to start (no free VU:
 * the target was too slow to keep up). A target's maximum rate is the highest achieved rate (requests
 * completed ÷ step duration) among the steps that held.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

// ---------------------------------------------------------------------------------------------- settings

const required = (name: string, hint: string): string => {
  const value = process.env[name]?.trim();
  if (!value) throw new Error(`${name} is not set: ${hint}`);
  return value;
};

const numbers = (name: string, fallback: string): number[] => {
  const raw = process.env[name] ?? fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`${name}=${raw} is not a comma-separated list of positive integers (e.g. ${fallback})`);
  }
  return values;
};

/** Seconds in a k6 duration like 500ms, 10s or 1m. */
function seconds(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`${name}=${value} is not a duration like 10s, 500ms or 1m`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
}

const TARGETS = ['hello-world', 'gateway'] as const;
type TargetName = (typeof TARGETS)[number];

interface Settings {
  readonly rates: number[];
  readonly duration: string;
  readonly durationS: number;
  /** A first, unrecorded run at the lowest rate (JIT, connection pools, the gateway's cache); '0s' skips. */
  readonly warmup: string;
  readonly targets: TargetName[];
  readonly maxErrorRate: number;
  readonly maxDroppedShare: number;
  /** A target's ladder stops after this many steps in a row that did not hold. */
  readonly stopAfter: number;
  readonly gatewayUrl: string;
  readonly product: string;
}

function settings(): Settings {
  const duration = process.env['DURATION'] ?? '10s';
  const warmup = process.env['WARMUP'] ?? '3s';
  seconds('WARMUP', warmup);
  const targets = (process.env['TARGETS'] ?? TARGETS.join(',')).split(',').map((t) => t.trim());
  const unknown = targets.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0 || targets.length === 0) {
    throw new Error(`TARGETS=${targets.join(',')} may only name ${TARGETS.join(', ')}`);
  }
  return {
    rates: numbers('RATES', '500,1000,1500,2000,3000,4000,5000,6000,7000,8000,10000,12000').sort(
      (a, b) => a - b,
    ),
    duration,
    durationS: seconds('DURATION', duration),
    warmup,
    targets: TARGETS.filter((t) => targets.includes(t)),
    maxErrorRate: Number(process.env['MAX_ERROR_RATE'] ?? 0.01),
    maxDroppedShare: Number(process.env['MAX_DROPPED_SHARE'] ?? 0.01),
    stopAfter: Number(process.env['STOP_AFTER'] ?? 2),
    gatewayUrl: (process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    product: process.env['PRODUCT'] ?? 'espresso-beans',
  };
}

// ------------------------------------------------------------------------------------------- CPU usage

/** Busy and total jiffies of the whole machine (/proc/stat), and the jiffies each pid has used. */
interface CpuSnapshot {
  readonly busy: number;
  readonly total: number;
  readonly pids: ReadonlyMap<number, number>;
}

function snapshot(pids: readonly number[]): CpuSnapshot {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  const used = new Map<number, number>();
  for (const pid of pids) {
    try {
      // /proc/<pid>/stat: "pid (comm) state …"; utime and stime are the 14th and 15th fields.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      used.set(pid, Number(rest[11]) + Number(rest[12]));
    } catch {
      // exited
    }
  }
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0), pids: used };
}

/** Linux reports process and machine CPU time in USER_HZ ticks, 100 per second on every common platform. */
const TICKS_PER_SECOND = 100;

/**
 * Between two snapshots: each pid group's CPU in % of one core (`<group>Pct`) and per request
 * (`<group>UsPerRequest`, µs of CPU time), everything else's (`otherPct`), and the machine's busy % of
 * all cores. CPU time per request does not depend on who else needed the cores: it is the cost figure.
 */
function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
  groups: Record<string, readonly number[]>,
  requests: number,
): Record<string, number> {
  const cores = os.cpus().length;
  const total = Math.max(1, b.total - a.total);
  const pct = (ticks: number): number => Math.round((ticks / total) * cores * 100);
  const result: Record<string, number> = { machineBusyPct: Math.round(((b.busy - a.busy) / total) * 100) };
  let accounted = 0;
  for (const [name, pids] of Object.entries(groups)) {
    const ticks = pids.reduce((sum, pid) => sum + ((b.pids.get(pid) ?? 0) - (a.pids.get(pid) ?? 0)), 0);
    accounted += ticks;
    result[`${name}Pct`] = pct(ticks);
    result[`${name}UsPerRequest`] =
      requests > 0 ? Math.round(((ticks / TICKS_PER_SECOND) * 1e6 * 10) / requests) / 10 : 0;
  }
  // Everything else on the machine (other processes, the kernel's softirq for loopback traffic).
  result['otherPct'] = Math.max(0, pct(b.busy - a.busy - accounted));
  return result;
}

/** The pids holding the listening socket of a loopback port (the gateway may be one process or several). */
function listenerPids(port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1]?.split(':')[1];
      if (local && parseInt(local, 16) === port && cols[3] === '0A' && cols[9]) inodes.add(cols[9]);
    }
  }
  const pids: number[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const fds = readdirSync(`/proc/${pid}/fd`);
      if (
        fds.some((fd) =>
          inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''),
        )
      )
        pids.push(Number(pid));
    } catch {
      // gone, or not ours to inspect
    }
  }
  return pids;
}

// ----------------------------------------------------------------------------------------------- k6 step

interface Step {
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

interface Target {
  readonly name: TargetName;
  readonly url: string;
  readonly description: string;
  readonly serverPids: readonly number[];
  readonly authorization?: () => Promise<string>;
}

interface Summary {
  metrics: Record<string, { values: Record<string, number> } | undefined>;
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
  const child = spawn(k6, ['run', '--quiet', '--no-usage-report', path.join(__dirname, 'max-rate.k6.js')], {
    env: {
      ...process.env,
      TARGET_URL: target.url,
      RATE: String(rate),
      DURATION: duration,
      SUMMARY_FILE: summaryFile,
      MAX_ERROR_RATE: String(s.maxErrorRate),
      MAX_DROPPED_SHARE: String(s.maxDroppedShare),
      K6_NO_USAGE_REPORT: 'true',
      ...(authorization ? { AUTHORIZATION: authorization } : {}),
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pid = child.pid ?? -1;
  const pids = [...target.serverPids, pid];
  const first = snapshot(pids);
  let last = first;
  const sampler = setInterval(() => {
    const now = snapshot(pids);
    if (now.pids.has(pid)) last = now;
  }, 250);
  const killer = setTimeout(() => child.kill('SIGKILL'), (durationS + 60) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => {
    clearInterval(sampler);
    clearTimeout(killer);
  });
  // 99: a threshold was crossed — the step did not hold, which is a result, not a failure of the run.
  if (code !== 0 && code !== 99) throw new Error(`k6 exited with ${code ?? 'a signal'}:\n${stderr}`);
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Summary;
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
    cpu: cpuBetween(first, last, { server: target.serverPids, k6: [pid] }, requests),
    holds: errorRate < s.maxErrorRate && dropped <= scheduled * s.maxDroppedShare,
  };
}

// --------------------------------------------------------------------------------------------- targets

/** Starts hello-world.ts with plain Node (its type stripping), as its own process like the gateway. */
async function startHelloWorld(): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=MODULE_TYPELESS_PACKAGE_JSON', path.join(__dirname, 'hello-world.ts')],
    {
      env: { ...process.env, PORT: process.env['HELLO_WORLD_PORT'] ?? '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the hello world server did not start within 10 s')),
      10_000,
    );
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = /^(http:\/\/\S+)\n/.exec(out);
      if (line?.[1]) {
        clearTimeout(timer);
        resolve(line[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`the hello world server exited with ${code}`)));
  });
  return { url: `${url}/`, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const grace = new AbortController();
  const timeout = sleep(5_000, undefined, { signal: grace.signal }).then(
    () => child.kill('SIGKILL'),
    () => undefined,
  );
  await Promise.race([exited, timeout]);
  grace.abort();
}

interface Token {
  readonly accessToken: string;
  readonly expiresAt: number;
}

async function login(s: Settings): Promise<Token> {
  const hint =
    'export the gateway demo user (GATEWAY_DEMO_USER, GATEWAY_DEMO_PASSWORD), or run TARGETS=hello-world';
  const username = required('GATEWAY_DEMO_USER', hint);
  const password = required('GATEWAY_DEMO_PASSWORD', hint);
  const url = `${s.gatewayUrl}/v1/auth/token`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username, password }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (cause) {
    throw new Error(`the gateway does not answer at ${url} — start it (npm start) or set GATEWAY_URL`, {
      cause,
    });
  }
  const text = await response.text();
  if (response.status !== 200)
    throw new Error(`POST ${url} answered ${response.status}: ${text.slice(0, 500)}`);
  const body = JSON.parse(text) as { access_token?: string; token_type?: string; expires_in?: number };
  if (!body.access_token || body.token_type?.toLowerCase() !== 'bearer') {
    throw new Error(`POST ${url} did not return a bearer access_token: ${text.slice(0, 500)}`);
  }
  return { accessToken: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
}

/**
 * One login for the whole run; a new one only if the access token would expire before a step ends
 * (access tokens are short-lived, and a 401 storm would read as the gateway failing).
 */
async function gatewayTarget(s: Settings): Promise<Target> {
  let token = await login(s);
  const authorization = async (): Promise<string> => {
    if (token.expiresAt - Date.now() < (s.durationS + 30) * 1000) token = await login(s);
    return `Bearer ${token.accessToken}`;
  };
  const url = `${s.gatewayUrl}/v1/products/${encodeURIComponent(s.product)}`;
  const check = await fetch(url, { headers: { authorization: await authorization() } });
  if (check.status !== 200) {
    throw new Error(`GET ${url} answered ${check.status}: ${(await check.text()).slice(0, 500)}`);
  }
  const pids = listenerPids(Number(new URL(s.gatewayUrl).port || 80));
  return {
    name: 'gateway',
    url,
    description: `gateway cached product read: GET /v1/products/${s.product} with a bearer token`,
    serverPids: pids,
    authorization,
  };
}

// ------------------------------------------------------------------------------------------------ run

interface TargetResult {
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

function limitOf(steps: readonly Step[], best: Step | undefined, serverProcesses: number): string {
  const over = steps.find((st) => !st.holds && st.rate > (best?.rate ?? 0));
  if (!over) return 'not reached';
  const { serverPct = 0, k6Pct = 0, machineBusyPct = 0 } = over.cpu;
  const figures = `at ${over.rate}/s the server used ${serverPct}% of one core, k6 ${k6Pct}%, the machine ${machineBusyPct}% of all cores`;
  if (serverProcesses > 0 && serverPct >= 80 * serverProcesses)
    return `the server (its cores were busy): ${figures}`;
  if (machineBusyPct >= 80) return `the machine (k6 and the server together filled the cores): ${figures}`;
  return `not CPU (neither the server nor the machine was busy; see latency and errors): ${figures}`;
}

async function ladder(k6: string, s: Settings, target: Target): Promise<TargetResult> {
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

function report(
  s: Settings,
  results: TargetResult[],
  meta: { stamp: string; machine: Record<string, string | number>; k6: string; command: string },
): { json: unknown; markdown: string } {
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  const hello = byName['hello-world'];
  const gateway = byName['gateway'];
  const ratio =
    hello?.maxRate && gateway?.maxRate ? Math.round((gateway.maxRate / hello.maxRate) * 1000) / 1000 : null;
  // A maximum the ladder did not reach is only a lower bound, and so is the ratio's side it sits on.
  const ratioIs =
    ratio === null
      ? 'not measured'
      : hello?.maxIsLowerBound && gateway?.maxIsLowerBound
        ? 'unknown (neither maximum was reached: add higher RATES)'
        : gateway?.maxIsLowerBound
          ? 'a lower bound'
          : hello?.maxIsLowerBound
            ? 'an upper bound'
            : 'exact';
  const ratioText =
    ratio === null
      ? 'n/a'
      : ratioIs === 'exact'
        ? String(ratio)
        : ratioIs === 'a lower bound'
          ? `≥ ${ratio}`
          : ratioIs === 'an upper bound'
            ? `≤ ${ratio}`
            : `n/a (${ratioIs})`;
  const costRatio =
    hello?.serverUsPerRequestAtMax && gateway?.serverUsPerRequestAtMax
      ? Math.round((gateway.serverUsPerRequestAtMax / hello.serverUsPerRequestAtMax) * 10) / 10
      : null;
  const definition =
    `A step holds when < ${s.maxErrorRate * 100}% of its requests failed (non-200, timeout, connection error) and ` +
    `k6 dropped ≤ ${s.maxDroppedShare * 100}% of the iterations the arrival rate scheduled (no VU free: the target ` +
    `fell behind). A target's maximum rate is the highest achieved rate (requests completed ÷ step duration) among ` +
    `the steps that held.`;
  const json = {
    date: meta.stamp,
    machine: meta.machine,
    k6: meta.k6,
    command: meta.command,
    settings: s,
    definition,
    targets: results,
    ratioGatewayToHelloWorld: ratio,
    ratioIs,
    serverCpuPerRequestGatewayToHelloWorld: costRatio,
  };
  const { machine } = meta;
  const lines = [
    `# Gateway maximum rate vs a bare node:http hello world (${meta.stamp})`,
    '',
    `Machine: ${machine['cpus']} cores (${machine['cpuModel']}), ${machine['memoryGiB']} GiB, Linux ${machine['kernel']}, Node ${machine['node']}; ${meta.k6}.`,
    `Command: \`${meta.command}\`.`,
    '',
    `k6 runs on the same ${machine['cpus']}-core machine as the server it drives, so at the top of the ladder the load`,
    'generator and the server compete for the cores. The CPU columns, over each k6 run: server, k6 and other (every',
    'other process, and the kernel) in % of one core, machine in % of all cores; a step with a large "other" share',
    'was disturbed by something else on the machine and should be re-run on a quiet one.',
    'Each target runs alone: one ladder after the other, the hello world stopped before the gateway',
    'steps, and nothing else driven meanwhile (what else runs on the machine — the stack the gateway needs: Redis,',
    'Kafka, the services — stays up, idle, for both ladders). Every step is an open-model constant arrival rate for',
    `${s.duration}, after an unrecorded ${s.warmup} warm-up at ${s.rates[0]}/s.`,
    '',
    definition,
    '',
    '| target | maximum rate (req/s) | ratio to hello world | server CPU per request at the maximum | ×hello world | limited by |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.description} | ${r.maxRate === null ? 'none held' : `${r.maxIsLowerBound ? '≥ ' : ''}${r.maxRate}`} | ${
          r.name === 'hello-world' ? '1' : ratioText
        } | ${r.serverUsPerRequestAtMax === null ? 'n/a' : `${r.serverUsPerRequestAtMax} µs`} | ${
          r.name === 'hello-world' ? '1' : (costRatio ?? 'n/a')
        } | ${r.limit} |`,
    ),
    '',
    'Server CPU per request (CPU time of the server process(es) ÷ requests, over the step) does not depend on how',
    'much of the machine k6 needed: where the hello world is limited by the machine rather than by its own core,',
    'the ratio of CPU per request is the fairer comparison of what the gateway costs.',
    '',
  ];
  for (const r of results) {
    lines.push(
      `## ${r.description}`,
      '',
      `URL \`${r.url}\`; server pid(s) ${r.serverPids.join(', ') || 'unknown'}; load average before: ${r.loadAverageBefore.join(' ')}.`,
      '',
      '| target rate | achieved | p50 | p95 | p99 | max | errors | 429 | 5xx | other | dropped | CPU server | server µs/req | CPU k6 | CPU other | CPU machine | holds |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...r.steps.map(
        (st) =>
          `| ${st.rate}/s | ${st.achievedRate}/s | ${st.latencyMs.p50} ms | ${st.latencyMs.p95} ms | ${st.latencyMs.p99} ms | ${st.latencyMs.max} ms | ` +
          `${(st.errorRate * 100).toFixed(2)}% | ${st.statuses.tooMany} | ${st.statuses.serverError} | ${st.statuses.other} | ` +
          `${st.dropped} (${(st.droppedShare * 100).toFixed(2)}%) | ${st.cpu['serverPct']}% | ${st.cpu['serverUsPerRequest']} | ${st.cpu['k6Pct']}% | ${st.cpu['otherPct']}% | ${st.cpu['machineBusyPct']}% | ${st.holds ? 'yes' : 'no'} |`,
      ),
      '',
    );
    if (r.skippedRates.length > 0) {
      lines.push(
        `Not run (the ladder stops after ${s.stopAfter} steps in a row that did not hold): ${r.skippedRates.join(', ')}/s.`,
        '',
      );
    }
    if (r.maxIsLowerBound) {
      lines.push(
        'The highest rate of the ladder held: the maximum is at least the figure above; add higher RATES.',
        '',
      );
    }
  }
  return { json, markdown: lines.join('\n') };
}

async function main(): Promise<void> {
  const s = settings();
  const k6 = required('K6_BIN', 'run through `npm run load:gateway` (it exports the stack’s environment)');
  const k6Version = execFileSync(k6, ['version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'k6';
  const results: TargetResult[] = [];
  // The gateway is checked first (login, one read) so a missing gateway fails in seconds, not after the baseline.
  const gateway = s.targets.includes('gateway') ? await gatewayTarget(s) : undefined;
  if (s.targets.includes('hello-world')) {
    const hello = await startHelloWorld();
    const cleanup = (): void => void hello.child.kill('SIGKILL');
    process.once('exit', cleanup);
    try {
      results.push(
        await ladder(k6, s, {
          name: 'hello-world',
          url: hello.url,
          description: 'bare node:http hello world (load-tests/gateway/hello-world.ts)',
          serverPids: hello.child.pid === undefined ? [] : [hello.child.pid],
        }),
      );
    } finally {
      await stop(hello.child);
      process.off('exit', cleanup);
    }
  }
  if (gateway) results.push(await ladder(k6, s, gateway));

  const stamp = new Date().toISOString().slice(0, 10);
  const cpus = os.cpus();
  const machine = {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
  const knobs = [
    `RATES=${s.rates.join(',')}`,
    `DURATION=${s.duration}`,
    ...(s.targets.length < TARGETS.length ? [`TARGETS=${s.targets.join(',')}`] : []),
  ];
  const command = `${knobs.join(' ')} npm run load:gateway`;
  const { json, markdown } = report(s, results, { stamp, machine, k6: k6Version, command });
  const out = process.env['OUT'] ?? path.join(__dirname, '..', 'results', `gateway-${stamp}`);
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(`${out}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${out}.md`, `${markdown}\n`);
  process.stdout.write(`${markdown}\nWrote ${out}.json and ${out}.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
