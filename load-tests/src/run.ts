import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { System } from '@saga-lab/stack';
import { processIds } from '@saga-lab/observability';
import { cpuBetween, snapshot } from './cpu';
import type { MachineInfo, ProcessFigures, ScenarioResult, ThresholdOutcome, VariantResult } from './result';
import type { AttackDef, Mode, Prepared, Scenario, Threshold } from './scenario';
import { growth, sizesByKind } from './heap';
import { flameGraph, selfTime, type CpuProfile } from './profile';
import { startAttack } from './vegeta';

export interface RunOptions {
  readonly mode: Mode;
  readonly system: System;
  /** The vegeta binary (the stack's VEGETA_BIN). */
  readonly vegeta: string;
  readonly generator: string;
  /** Where the generator's raw results go (one directory per run). */
  readonly workDir: string;
  readonly command: string;
  readonly log: (line: string) => void;
  /** Only these variants (by name), e.g. to repeat one side of a comparison. */
  readonly only?: readonly string[];
  /** CPU-profile the services each variant restarts; flame graphs and top functions go into the result. */
  readonly profile?: boolean;
  /** Heap snapshots of the variant's processes before and after the attacks, compared in the notes. */
  readonly heap?: boolean;
  /** Every attack at this rate / for this long instead of its own (`--rate`, `--duration`). */
  readonly resize?: { readonly rate?: number; readonly durationS?: number };
}

/** Seconds of each warm-up step (a quarter, then half the attack's rate) before a full run's attacks. */
export const WARMUP_STEP_S = 4;

export function machineInfo(loadBefore: readonly number[]): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    loadBefore: loadBefore.map((l) => Math.round(l * 100) / 100),
    loadAfter: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** Resident set size of a process in MiB (0 when it is gone). */
export function rssMiB(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

/** The figure a threshold bounds, from an attack's result. */
export function judge(
  thresholds: readonly Threshold[],
  attacks: VariantResult['attacks'],
): ThresholdOutcome[] {
  return thresholds.map((t) => {
    const attack = attacks.find((a) => a.name === t.attack);
    if (!attack) throw new Error(`a threshold names the attack ${t.attack}, which the variant does not have`);
    const actual =
      t.metric === 'errorRate'
        ? attack.errorRate
        : t.metric === 'achievedRate'
          ? attack.achievedRate
          : attack.latency[t.metric];
    const passed = (t.max === undefined || actual < t.max) && (t.min === undefined || actual >= t.min);
    return { ...t, actual, passed };
  });
}

/**
 * Runs a scenario's variants one after another: prepare the system, run the variant's attacks at the same
 * time while sampling the CPU of the processes it names and of the generator, judge the thresholds, clean up.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const { mode, system, log } = options;
  const loadBefore = os.loadavg();
  const startedAt = new Date().toISOString();
  const variants: VariantResult[] = [];
  for (const variant of scenario.variants) {
    if (options.only && !options.only.includes(variant.name)) continue;
    log(`▶ ${scenario.name} · ${variant.name}`);
    const profileDir = options.profile ? mkdtempSync(path.join(options.workDir, 'profile-')) : undefined;
    const heapDir = options.heap ? mkdtempSync(path.join(options.workDir, 'heap-')) : undefined;
    const prepared: Prepared = (await variant.prepare?.({
      mode,
      system,
      env: (name) => system.env(name),
      log,
      ...(profileDir ? { profileDir } : {}),
      ...(heapDir ? { heapDir } : {}),
    })) ?? { vars: {}, processes: {} };
    let result: VariantResult;
    try {
      result = await runVariant(
        variant.name,
        variant.attacks(mode).map((attack) => ({ ...attack, ...options.resize })),
        variant.thresholds?.(mode) ?? [],
        prepared,
        options,
        heapDir,
      );
    } finally {
      await prepared.cleanup?.(); // a profiled service writes its profile as it exits
    }
    variants.push(profileDir ? { ...result, profiles: readProfiles(profileDir) } : result);
  }
  const baseline = variants.find((v) => v.name === 'baseline')?.processes['baseline'];
  return {
    scenario: scenario.name,
    title: scenario.title,
    question: scenario.question,
    mode,
    startedAt,
    command: options.command,
    generator: options.generator,
    machine: machineInfo(loadBefore),
    variants,
    ...(baseline ? { baselineUsPerRequest: baseline.cpuUsPerRequest } : {}),
    passed: variants.every((v) => v.thresholds.every((t) => t.passed) && !v.failures?.length),
  };
}

async function runVariant(
  name: string,
  attacks: readonly AttackDef[],
  thresholds: readonly Threshold[],
  prepared: Prepared,
  options: RunOptions,
  heapDir?: string,
): Promise<VariantResult> {
  const dir = path.join(options.workDir, name.replace(/[^a-z0-9]+/gi, '-').toLowerCase());
  mkdirSync(dir, { recursive: true });
  // Warm-up, not recorded: a freshly (re)started service compiles its hot paths first, and an open-model
  // attack at full rate on a cold process builds a backlog that then takes seconds to drain. A quarter of
  // the rate, then half, for a few seconds each.
  if (options.mode === 'full')
    for (const share of [0.25, 0.5])
      await Promise.all(
        attacks.map(
          (def) =>
            startAttack(
              options.vegeta,
              {
                ...def,
                name: `${def.name}-warmup`,
                rate: Math.max(1, Math.round(def.rate * share)),
                durationS: WARMUP_STEP_S,
              },
              prepared.vars,
              dir,
            ).done,
        ),
      );
  // With --heap: a snapshot of each process's heap before the measured attacks and one after them (only
  // of those started to answer SIGUSR2 with one: for any other process the signal's default is to end it).
  const heapLabels = (prepared.heapSnapshots ?? []).filter(
    (label) => prepared.processes[label] !== undefined,
  );
  const heapSnapshots = async (): Promise<string[]> =>
    heapDir
      ? Promise.all(heapLabels.map((label) => heapSnapshot(prepared.processes[label] as number, heapDir)))
      : [];
  const heapBefore = await heapSnapshots();
  const measuredFrom = new Date();
  const processes = Object.entries(prepared.processes);
  const rssBefore = new Map(processes.map(([label, pid]) => [label, rssMiB(pid)]));
  const running = attacks.map((def) => startAttack(options.vegeta, def, prepared.vars, dir));
  const longest = Math.max(...attacks.map((a) => a.durationS));
  // The generator's pids are known once it started; the first sample waits for them.
  await new Promise((resolve) => setTimeout(resolve, 200));
  const generatorPids = running.map((r) => r.pid).filter((pid) => pid > 0);
  // A process is measured with its descendants: PostgreSQL's backends, for one.
  const members = new Map(processes.map(([label, pid]) => [label, groupOf(pid)]));
  const pids = [...[...members.values()].flat(), ...generatorPids];
  const first = snapshot(pids);
  let last = first;
  const started = Date.now();
  const ticker = setInterval(() => {
    const now = snapshot(pids);
    // A sample after the generator exited has lost its CPU time: keep the last one that saw it.
    if (generatorPids.every((pid) => now.pids.has(pid))) last = now;
    const elapsed = Math.round((Date.now() - started) / 1000);
    if (elapsed % 5 === 0) options.log(`  … ${Math.min(elapsed, longest)} / ${longest} s`);
  }, 1000);
  let results;
  try {
    results = await Promise.all(running.map((r) => r.done));
  } finally {
    clearInterval(ticker);
  }
  const requests = results.reduce((sum, r) => sum + r.requests, 0);
  const groups: Record<string, readonly number[]> = Object.fromEntries(members);
  groups['generator'] = generatorPids;
  const cpu = cpuBetween(first, last, groups, requests);
  const figures: Record<string, ProcessFigures> = {};
  for (const label of Object.keys(groups)) {
    const pid = prepared.processes[label];
    figures[label] = {
      cpuPct: cpu[`${label}Pct`] ?? 0,
      cpuUsPerRequest: cpu[`${label}UsPerRequest`] ?? 0,
      rssBeforeMiB: pid === undefined ? 0 : (rssBefore.get(label) ?? 0),
      rssAfterMiB: pid === undefined ? 0 : rssMiB(pid),
    };
  }
  for (const r of results)
    options.log(
      `  ${r.name}: ${r.achievedRate} req/s of ${r.offeredRate} offered · p50 ${r.latency.p50Ms} ms · p99 ${r.latency.p99Ms} ms · errors ${(r.errorRate * 100).toFixed(2)} %`,
    );
  const heapAfter = await heapSnapshots();
  const heapNotes = heapLabels.flatMap((label, i) =>
    heapBefore[i] && heapAfter[i] ? [heapNote(label, heapBefore[i] as string, heapAfter[i] as string)] : [],
  );
  const findings = prepared.findings ? await prepared.findings(results, measuredFrom) : undefined;
  for (const failure of findings?.failures ?? []) options.log(`  ✗ ${failure}`);
  const outcome = judge(thresholds, results);
  for (const t of outcome.filter((o) => !o.passed))
    options.log(
      `  ✗ ${t.attack} ${t.metric} = ${t.actual} (bound ${t.max !== undefined ? `< ${t.max}` : `≥ ${t.min}`})`,
    );
  return {
    name,
    attacks: results,
    processes: figures,
    thresholds: outcome,
    ...(findings ? { facts: findings.facts } : {}),
    ...(findings?.failures?.length ? { failures: findings.failures } : {}),
    ...(findings?.notes?.length || heapNotes.length
      ? { notes: [...(findings?.notes ?? []), ...heapNotes] }
      : {}),
  };
}

/** The CPU profiles a variant's services wrote: their top functions and packages, and a flame graph. */
function readProfiles(dir: string): NonNullable<VariantResult['profiles']> {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.cpuprofile'))
    .map((file) => {
      const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
      const { total, functions, packages } = selfTime(profile);
      const share = (samples: number): number => Math.round((samples / Math.max(1, total)) * 1000) / 10;
      return {
        file,
        samples: total,
        topFunctions: functions.slice(0, 20).map((f) => ({ name: f.name, selfPct: share(f.samples) })),
        topPackages: packages.slice(0, 12).map((p) => ({ name: p.name, selfPct: share(p.samples) })),
        flameGraph: flameGraph(profile, `CPU profile ${file}`),
      };
    });
}

/** The parent of a process, from /proc/<pid>/stat ("pid (comm) state ppid …"). */
function parentOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The process and its descendants (PostgreSQL's backends are children of the postmaster). */
export function groupOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const other of processIds()) {
    const parent = parentOf(other);
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), other]);
  }
  const all: number[] = [];
  const visit = (at: number): void => {
    all.push(at);
    for (const child of children.get(at) ?? []) visit(child);
  };
  visit(pid);
  return all;
}

/** Asks a process started with --heapsnapshot-signal=SIGUSR2 for a snapshot; resolves with its file. */
async function heapSnapshot(pid: number, dir: string): Promise<string> {
  const before = new Set(readdirSync(dir));
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 60_000;
  for (;;) {
    const file = readdirSync(dir).find((f) => !before.has(f) && f.endsWith('.heapsnapshot'));
    // Written when the size stops changing (V8 writes it in one go, synchronously, then the process resumes).
    if (file) {
      const size = statSync(path.join(dir, file)).size;
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (size > 0 && statSync(path.join(dir, file)).size === size) return path.join(dir, file);
    }
    if (Date.now() > deadline) throw new Error(`process ${pid} wrote no heap snapshot in 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** What grew in a process's heap over the attacks, by kind of object. */
function heapNote(label: string, before: string, after: string): string {
  const read = (file: string) =>
    sizesByKind(JSON.parse(readFileSync(file, 'utf8')) as Parameters<typeof sizesByKind>[0]);
  const [a, b] = [read(before), read(after)];
  const total = (m: Map<string, { bytes: number }>): number =>
    [...m.values()].reduce((sum, v) => sum + v.bytes, 0);
  const mib = (n: number): string => (n / 2 ** 20).toFixed(1);
  const rows = growth(a, b, 10).map(
    (g) => `| ${g.kind.replace(/\|/g, '\\|').slice(0, 80)} | ${mib(g.bytes)} | ${g.count} |`,
  );
  return [
    `Heap of ${label}: ${mib(total(a))} MiB live before the attacks, ${mib(total(b))} MiB after (snapshots; RSS also counts V8's free pages and native memory).`,
    '',
    '| grew most | MiB | objects |',
    '|---|--:|--:|',
    ...rows,
  ].join('\n');
}
