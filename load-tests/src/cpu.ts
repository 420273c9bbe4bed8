import os from 'node:os';
import { TICKS_PER_SECOND, readMachineCpu, readProcessStat } from '@saga-lab/observability';

/** Busy and total ticks of the whole machine, and the ticks each pid has used. */
export interface CpuSnapshot {
  readonly busy: number;
  readonly total: number;
  readonly pids: ReadonlyMap<number, number>;
}

export function snapshot(pids: readonly number[]): CpuSnapshot {
  const { busy, total } = readMachineCpu();
  const used = new Map<number, number>();
  for (const pid of pids) {
    const stat = readProcessStat(pid);
    if (stat) used.set(pid, stat.utime + stat.stime); // no stat: exited
  }
  return { busy, total, pids: used };
}

/**
 * Samples every 250 ms while `watched` runs; `last` is the last sample that still saw it, because a sample
 * taken after it exited has lost its CPU time.
 */
export function sampleCpu(
  pids: readonly number[],
  watched: number,
): { readonly first: CpuSnapshot; readonly last: CpuSnapshot; stop: () => void } {
  const first = snapshot(pids);
  let last = first;
  const sampler = setInterval(() => {
    const now = snapshot(pids);
    if (now.pids.has(watched)) last = now;
  }, 250);
  return {
    first,
    get last() {
      return last;
    },
    stop: () => clearInterval(sampler),
  };
}

/**
 * Between two snapshots: each pid group's CPU in % of one core (`<group>Pct`) and per request
 * (`<group>UsPerRequest`, µs of CPU time), everything else's (`otherPct`), and the machine's busy % of
 * all cores. CPU time per request does not depend on who else needed the cores: it is the cost figure.
 */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
  groups: Record<string, readonly number[]>,
  requests: number,
  cores = os.cpus().length,
): Record<string, number> {
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
