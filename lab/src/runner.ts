import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TOPICS } from '@saga-lab/contracts';
import { judge, observe, outboxBacklog, unsettled, type CheckScope, type Verdict } from './checker';
import type { Experiment } from './experiments';
import { setProviderFaults, type FaultContext, type ScheduledFault } from './faults';
import { readTopics } from './kafka-log';
import { derive, seeded } from './random';
import { writeReport, type FaultWindow, type RunResult } from './report';
import { LINKS, closeLink, openLink, type System } from '@saga-lab/stack';
import { planWorkload, runWorkload, stockProducts, type LabProduct, type OrderRecord } from './workload';

export interface RunOptions {
  readonly seed: number;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** How long after healing every invariant must hold (and every order be terminal). */
  readonly convergeBoundMs: number;
  readonly reportsDir: string;
}

/** What the lab page shows live: `<state>/lab/live.json`. */
interface LiveState {
  updatedAt: string;
  run: { id: string; experiment: string; seed: number; phase: string; startedAt: string } | null;
  faults: { name: string; since: string }[];
  lastVerdict: (Verdict & { runId: string; experiment: string }) | null;
}

export class Live {
  private state: LiveState;
  constructor(private readonly file: string) {
    this.state = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as LiveState)
      : { updatedAt: new Date().toISOString(), run: null, faults: [], lastVerdict: null };
  }
  update(change: (state: LiveState) => void): void {
    change(this.state);
    this.state.updatedAt = new Date().toISOString();
    mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileSync(`${this.file}.tmp`, JSON.stringify(this.state, null, 2));
    renameSync(`${this.file}.tmp`, this.file);
  }
}

/** The run's record, kept so `npm run lab -- check` can judge it again later. */
interface RunRecord {
  readonly id: string;
  readonly experiment: string;
  readonly since: string;
  readonly products: readonly LabProduct[];
  readonly records: readonly OrderRecord[];
}

const stamp = (date: Date): string => date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

const hardware = (): string =>
  `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

export function checkerFor(system: System): {
  quick: (scope: CheckScope) => Promise<Verdict>;
  full: (
    scope: CheckScope,
  ) => Promise<{ verdict: Verdict; orders: Awaited<ReturnType<typeof observe>>['orders'] }>;
} {
  const brokers = system.env('KAFKA_BROKERS').split(',');
  const replies = (since: Date) =>
    readTopics(brokers, [TOPICS.inventoryReplies, TOPICS.paymentReplies], since.getTime());
  return {
    quick: async (scope) => judge(await observe(system.databases(), scope, null), scope),
    full: async (scope) => {
      const observation = await observe(system.databases(), scope, replies);
      return { verdict: judge(observation, scope), orders: observation.orders };
    },
  };
}

/**
 * One experiment: the services configured for it, a seeded workload through the gateway while the fault
 * schedule runs, every fault healed, then waiting (up to the bound) until every order is terminal, every
 * outbox is drained and the invariants hold — and a final check that also reads Kafka.
 */
export async function runExperiment(
  system: System,
  experiment: Experiment,
  options: RunOptions,
  log: (line: string) => void,
): Promise<RunResult> {
  const started = new Date();
  const id = `${stamp(started)}-${experiment.name}-s${options.seed}`.slice(0, 80);
  const live = new Live(path.join(system.labDir, 'live.json'));
  live.update((s) => {
    s.run = {
      id,
      experiment: experiment.name,
      seed: options.seed,
      phase: 'setup',
      startedAt: started.toISOString(),
    };
    s.faults = [];
  });
  const phase = (name: string): void => live.update((s) => s.run && (s.run.phase = name));
  const faultContext: FaultContext = { system, runId: id, log };
  const scheduled = experiment.schedule(seeded(derive(options.seed, 'faults')), options.durationMs);
  const windows: FaultWindow[] = [];
  const checker = checkerFor(system);
  try {
    log(
      `▶ ${experiment.name} (seed ${options.seed}, ${options.ratePerSecond} orders/s for ${options.durationMs / 1000} s)`,
    );
    const services = { ...experiment.services };
    if (experiment.link) {
      const link = LINKS[experiment.link];
      services[link.service] = { ...services[link.service], ...(await openLink(system, link)) };
    }
    await system.configureServices(services, id);
    await setProviderFaults(system, { declineRate: 0, latencyMs: 0, timeoutRate: 0, lostResponseRate: 0 });
    const customers = system.customers();
    // Product ids and idempotency keys carry a short tag of the run (product ids are slugs of ≤ 64 characters).
    const tag = `${stamp(started)}-${derive(options.seed, experiment.name).toString(36)}`;
    const plan = planWorkload(seeded(derive(options.seed, 'workload')), tag, {
      ratePerSecond: options.ratePerSecond,
      durationMs: options.durationMs,
      customers: customers.map((c) => c.username),
    });
    await stockProducts(system.databases().inventory, plan.products);
    const since = new Date();
    const startAt = Date.now() + 300;
    phase('workload');
    const workload = runWorkload(
      plan,
      {
        gatewayUrl: system.address('gateway'),
        credentials: customers,
        requestTimeoutMs: 3_000,
        giveUpAt: () => startAt + options.durationMs + options.convergeBoundMs / 2,
      },
      startAt,
    );
    const faults = Promise.all(scheduled.map((s) => runFault(s, startAt, faultContext, live, windows, log)));
    const [records] = await Promise.all([workload, faults]);
    phase('heal');
    for (const s of scheduled) await s.fault.heal(faultContext); // idempotent: whatever is still broken
    await setProviderFaults(system, { declineRate: 0, latencyMs: 0, timeoutRate: 0, lostResponseRate: 0 });
    const healedAtMs = Date.now() - startAt;
    live.update((s) => (s.faults = []));
    const scope: CheckScope = { since, products: plan.products, records };
    const record: RunRecord = {
      id,
      experiment: experiment.name,
      since: since.toISOString(),
      products: plan.products,
      records,
    };
    mkdirSync(path.join(system.labDir, 'runs'), { recursive: true });
    writeFileSync(path.join(system.labDir, 'runs', 'last.json'), JSON.stringify(record));

    phase('converging');
    const convergedAtMs = await converge(system, scope, checker.quick, options.convergeBoundMs, startAt);
    log(
      convergedAtMs === null
        ? `  … not converged within ${options.convergeBoundMs / 1000} s`
        : `  ✓ converged ${((convergedAtMs - healedAtMs) / 1000).toFixed(1)} s after healing`,
    );
    phase('check');
    const { verdict, orders } = await checker.full(scope);
    const expected = experiment.expect;
    // A run in which no order was acknowledged proves nothing either way: it fails.
    const acknowledged = records.some((r) => r.outcome === 'acknowledged');
    const passed =
      acknowledged &&
      ('holds' in expected
        ? verdict.ok
        : verdict.invariants.some((i) => !i.holds && expected.caught.includes(i.name)));
    const terminal: Record<string, number> = {};
    for (const o of orders) {
      const key = ['CONFIRMED', 'REJECTED', 'CANCELLED'].includes(o.status) ? o.status : 'PENDING';
      terminal[key] = (terminal[key] ?? 0) + 1;
    }
    const perSecond = secondsOf(records, orders, startAt);
    const result: RunResult = {
      id,
      experiment: experiment.name,
      lesson: experiment.lesson,
      seed: options.seed,
      ratePerSecond: options.ratePerSecond,
      durationMs: options.durationMs,
      convergeBoundMs: options.convergeBoundMs,
      startedAt: started.toISOString(),
      safeguardOff: experiment.safeguardOff ?? null,
      expected,
      passed,
      orders: {
        planned: records.length,
        acknowledged: records.filter((r) => r.outcome === 'acknowledged').length,
        refused: records.filter((r) => r.outcome === 'refused').length,
        unknown: records.filter((r) => r.outcome === 'unknown').length,
        retried: records.filter((r) => r.attempts > 1).length,
        terminal,
      },
      faults: windows,
      healedAtMs,
      convergedAtMs,
      perSecond,
      samples: samplesOf(orders),
      zipkinUrl: safeEnv(system, 'ZIPKIN_URL'),
      verdict,
      hardware: hardware(),
    };
    writeReport(options.reportsDir, result);
    live.update((s) => {
      s.lastVerdict = { ...verdict, runId: id, experiment: experiment.name };
      if (s.run) s.run.phase = 'done';
    });
    for (const i of verdict.invariants)
      log(
        `  ${!i.checked ? '·' : i.holds ? '✓' : '✗'} ${i.name}${i.holds ? '' : ` — ${i.offendingCount}: ${i.details.slice(0, 3).join('; ')}`}`,
      );
    log(
      `${passed ? '✓ PASS' : '✗ FAIL'} ${experiment.name}: ${result.orders.acknowledged} orders acknowledged — report ${path.relative(process.cwd(), path.join(options.reportsDir, id, 'report.md'))}`,
    );
    return result;
  } finally {
    for (const s of scheduled) await s.fault.heal(faultContext).catch(() => undefined);
    live.update((s) => (s.faults = []));
    await system.configureServices({}, id); // back to the defaults: no safeguard stays off after a run
    if (experiment.link) await closeLink(system, LINKS[experiment.link]);
  }
}

async function runFault(
  scheduled: ScheduledFault,
  startAt: number,
  ctx: FaultContext,
  live: Live,
  windows: FaultWindow[],
  log: (line: string) => void,
): Promise<void> {
  const wait = startAt + scheduled.atMs - Date.now();
  if (wait > 0) await sleep(wait);
  const injectedAt = new Date();
  log(`  ⚡ ${scheduled.fault.name} at ${((injectedAt.getTime() - startAt) / 1000).toFixed(1)} s`);
  live.update((s) => s.faults.push({ name: scheduled.fault.name, since: injectedAt.toISOString() }));
  phaseFault(live, 'fault');
  await scheduled.fault.inject(ctx);
  const remaining = startAt + scheduled.atMs + scheduled.forMs - Date.now();
  if (remaining > 0) await sleep(remaining);
  await scheduled.fault.heal(ctx);
  const healedAt = new Date();
  log(`  ✚ healed ${scheduled.fault.name} at ${((healedAt.getTime() - startAt) / 1000).toFixed(1)} s`);
  live.update((s) => (s.faults = s.faults.filter((f) => f.name !== scheduled.fault.name)));
  phaseFault(live, 'workload');
  windows.push({
    name: scheduled.fault.name,
    fromMs: injectedAt.getTime() - startAt,
    toMs: healedAt.getTime() - startAt,
    injectedAt: injectedAt.toISOString(),
    healedAt: healedAt.toISOString(),
  });
}

const phaseFault = (live: Live, phase: string): void =>
  live.update((s) => {
    if (s.run && (s.run.phase === 'workload' || s.run.phase === 'fault')) s.run.phase = phase;
  });

/** Polls until every order is terminal, the outboxes are drained and the invariants hold; null if the bound passes. */
async function converge(
  system: System,
  scope: CheckScope,
  quick: (scope: CheckScope) => Promise<Verdict>,
  boundMs: number,
  startAt: number,
): Promise<number | null> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    try {
      const open = await unsettled(system.databases(), scope);
      if (open.length === 0 && (await outboxBacklog(system.databases())) === 0 && (await quick(scope)).ok)
        return Date.now() - startAt;
    } catch {
      // a database still restarting: try again
    }
    if (Date.now() > deadline) return null;
    await sleep(1_000);
  }
}

function secondsOf(
  records: readonly OrderRecord[],
  orders: readonly { status: string; updated_at: Date }[],
  startAt: number,
): RunResult['perSecond'] {
  const accepted = new Map<number, number>();
  const settled = new Map<number, number>();
  for (const r of records)
    if (r.ackAt)
      accepted.set(
        Math.floor((r.ackAt - startAt) / 1000),
        (accepted.get(Math.floor((r.ackAt - startAt) / 1000)) ?? 0) + 1,
      );
  for (const o of orders)
    if (o.status !== 'PENDING') {
      const s = Math.floor((o.updated_at.getTime() - startAt) / 1000);
      settled.set(s, (settled.get(s) ?? 0) + 1);
    }
  const last = Math.max(0, ...accepted.keys(), ...settled.keys());
  return Array.from({ length: last + 1 }, (_, second) => ({
    second,
    accepted: accepted.get(second) ?? 0,
    settled: settled.get(second) ?? 0,
  }));
}

function samplesOf(
  orders: readonly { order_id: string; status: string; trace_id: string | null }[],
): RunResult['samples'] {
  const picked = new Map<string, (typeof orders)[number]>();
  for (const o of orders) if (!picked.has(o.status) && o.trace_id) picked.set(o.status, o);
  for (const o of orders) if (!picked.has(o.status)) picked.set(o.status, o);
  return [...picked.values()].map((o) => ({ orderId: o.order_id, status: o.status, traceId: o.trace_id }));
}

function safeEnv(system: System, name: string): string | null {
  try {
    return system.env(name);
  } catch {
    return null;
  }
}

/** `npm run lab -- check`: the checker alone, on the last run's scope (or everything since `sinceMs`). */
export async function checkNow(
  system: System,
  sinceMs: number | undefined,
): Promise<{ scope: string; verdict: Verdict }> {
  const lastFile = path.join(system.labDir, 'runs', 'last.json');
  const checker = checkerFor(system);
  if (sinceMs === undefined && existsSync(lastFile)) {
    const last = JSON.parse(readFileSync(lastFile, 'utf8')) as RunRecord;
    const { verdict } = await checker.full({
      since: new Date(last.since),
      products: last.products,
      records: last.records,
    });
    return { scope: `the last run (${last.id})`, verdict };
  }
  const since = new Date(Date.now() - (sinceMs ?? 3_600_000));
  const { verdict } = await checker.full({ since });
  return { scope: `every order since ${since.toISOString()}`, verdict };
}
