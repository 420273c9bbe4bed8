/**
 * Linux's /proc, read in one place for the tools: the stack asks whether what it started still runs, the load
 * tests what a process cost. Parsers take text so they can be tested on fixed samples; readers add the file
 * access, and say `undefined` for a process that is gone or not ours to inspect.
 */
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';

/** Linux reports process and machine CPU time in USER_HZ ticks, 100 per second on every common platform. */
export const TICKS_PER_SECOND = 100;

/** The fields of /proc/<pid>/stat the workspace uses. */
export interface ProcessStat {
  /** One letter: R running, S sleeping, Z zombie (exited, not yet reaped)… */
  readonly state: string;
  readonly pgrp: number;
  /** CPU time in user and in kernel mode, in ticks (TICKS_PER_SECOND). */
  readonly utime: number;
  readonly stime: number;
}

/**
 * /proc/<pid>/stat is "pid (comm) state ppid pgrp … utime stime …" (fields 3, 5, 14 and 15). The name may
 * hold spaces and parentheses, so fields are counted from the last ')'.
 */
export function parseProcessStat(text: string): ProcessStat {
  const close = text.lastIndexOf(')');
  const fields = close < 0 ? [] : text.slice(close + 2).split(' ');
  const [state, , pgrp] = fields;
  const number = (index: number): number => Number(fields[index]);
  if (!state || [2, 11, 12].some((i) => !Number.isInteger(number(i)))) {
    throw new Error(`not a /proc/<pid>/stat line: ${text.slice(0, 200)}`);
  }
  return { state, pgrp: Number(pgrp), utime: number(11), stime: number(12) };
}

export function readProcessStat(pid: number): ProcessStat | undefined {
  try {
    return parseProcessStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Throws when there is no /proc to list. */
export function processIds(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number);
}

/** The file the process runs (symlinks resolved by the kernel). */
export function processExecutable(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/** The whole machine's CPU time in ticks since boot: busy, and busy plus idle. */
export interface MachineCpu {
  readonly busy: number;
  readonly total: number;
}

/** The first line of /proc/stat: "cpu  user nice system idle iowait irq softirq steal …"; waiting for I/O is idle. */
export function parseMachineCpu(text: string): MachineCpu {
  const [, ...fields] = (text.split('\n')[0] ?? '').trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  const busy = (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
  return { busy, total: busy + (idle ?? 0) + (iowait ?? 0) };
}

export function readMachineCpu(): MachineCpu {
  return parseMachineCpu(readFileSync('/proc/stat', 'utf8'));
}

/**
 * The socket inodes listening on `port` in a /proc/net/tcp or tcp6 table (a header line, then one socket a
 * line: local address as hex ip:port in column 2, state in column 4 where 0A is LISTEN, inode in column 10).
 */
export function parseListeningInodes(table: string, port: number): string[] {
  const inodes: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1]?.split(':')[1];
    if (local && parseInt(local, 16) === port && cols[3] === '0A' && cols[9]) inodes.push(cols[9]);
  }
  return inodes;
}

/** The pids holding a listening socket on a local port (a server may be one process or several). */
export function listenerPids(port: number): number[] {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const inode of parseListeningInodes(readFileSync(table, 'utf8'), port)) inodes.add(inode);
    } catch {
      // no IPv6 (or no /proc): nothing listens there
    }
  }
  return processIds().filter((pid) => {
    try {
      return readdirSync(`/proc/${pid}/fd`).some((fd) =>
        inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? ''),
      );
    } catch {
      return false; // gone, or not ours to inspect
    }
  });
}
