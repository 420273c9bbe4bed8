import { spawn, type ChildProcess } from 'node:child_process';
import {
  constants,
  accessSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processExecutable, processIds, readProcessStat } from '@saga-lab/observability';
import { LOOPBACK } from './config';
import { downloadFailed, portTaken } from './errors';

/** Finds an executable on PATH (or checks an absolute path); undefined when absent. */
export function which(tool: string, envPath: string = process.env['PATH'] ?? ''): string | undefined {
  const candidates = tool.includes('/')
    ? [tool]
    : envPath
        .split(':')
        .filter(Boolean)
        .map((d) => path.join(d, tool));
  return candidates.find((file) => {
    try {
      accessSync(file, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Resolves when nothing listens on host:port (we could bind it); rejects with a port-taken error otherwise. */
export async function assertPortFree(
  port: number,
  component: string,
  envVar?: string,
  host = LOOPBACK,
): Promise<void> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
  if (!free) throw portTaken(port, component, envVar);
}

export interface PidRecord {
  readonly pid: number;
  /** The executable started, as given (it may be a symlink, like /usr/bin/java). */
  readonly executable?: string;
  readonly startedAt: string;
  readonly command: string;
}

export function readPid(pidFile: string): PidRecord | undefined {
  if (!existsSync(pidFile)) return undefined;
  try {
    return JSON.parse(readFileSync(pidFile, 'utf8')) as PidRecord;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie still answers signal 0; treat it as gone. Without /proc, signal 0 alone decides.
  return readProcessStat(pid)?.state !== 'Z';
}

/**
 * After a reboot or a killed session, a stale pid file's pid may belong to some other program: only a
 * process running the recorded executable counts as ours. The executable is compared, not the command
 * line, which some servers rewrite (redis-server shows its address there).
 */
export function isSameProgram(record: PidRecord): boolean {
  const running = processExecutable(record.pid);
  // No /proc, or another user's process we may not inspect: the pid alone decides.
  if (running === undefined) return true;
  const recorded = record.executable ?? record.command.split(' ')[0] ?? '';
  try {
    return realpathSync(recorded) === running;
  } catch {
    return false; // the recorded executable is gone (e.g. a cache wiped): not ours any more
  }
}

/**
 * True when a live process is left in the process group led by `pgid`. Zombies do not count: an exited
 * daemon is re-parented to PID 1, which may take a while to reap it.
 */
export function groupAlive(pgid: number): boolean {
  let pids: number[];
  try {
    pids = processIds();
  } catch {
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  return pids.some((pid) => {
    const stat = readProcessStat(pid); // undefined: exited while we looked
    return stat !== undefined && stat.pgrp === pgid && stat.state !== 'Z';
  });
}

export interface DaemonOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly logFile: string;
  readonly pidFile: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
}

/**
 * Starts a long-running process in its own process group, output appended to its log file, and records
 * its pid so `down` stops exactly what `up` started.
 */
export function spawnDaemon(options: DaemonOptions): ChildProcess {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  mkdirSync(path.dirname(options.pidFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  try {
    const child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
      ...(options.uid === undefined ? {} : { uid: options.uid }),
      ...(options.gid === undefined ? {} : { gid: options.gid }),
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
    const record: PidRecord = {
      pid: child.pid,
      executable: which(options.command) ?? options.command,
      startedAt: new Date().toISOString(),
      command: [options.command, ...options.args].join(' '),
    };
    writeFileSync(options.pidFile, JSON.stringify(record));
    child.unref();
    return child;
  } finally {
    closeSync(log);
  }
}

/**
 * Stops a daemon: `signal` to the leader, then SIGKILL to its whole group after `timeoutMs`. Resolves once
 * no process of the group is left, and removes the pid file.
 */
export async function stopDaemon(
  pidFile: string,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<boolean> {
  const record = readPid(pidFile);
  if (!record) return false;
  const { pid } = record;
  const deadline = Date.now() + timeoutMs;
  if (isAlive(pid)) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  }
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
    const killDeadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
  rmSync(pidFile, { force: true });
  return true;
}

export function tailFile(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export interface RunOptions {
  readonly logFile: string;
  readonly what: string;
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly uid?: number;
  readonly gid?: number;
}

/** Runs a provisioning command to completion, output to its log file; failure becomes a download error. */
export async function run(command: string, args: readonly string[], options: RunOptions): Promise<void> {
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  const log = openSync(options.logFile, 'a');
  writeFileSync(log, `\n$ ${command} ${args.join(' ')}\n`);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(command, args, {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: ['ignore', log, log],
        ...(options.uid === undefined ? {} : { uid: options.uid }),
        ...(options.gid === undefined ? {} : { gid: options.gid }),
      });
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw downloadFailed(options.what, options.logFile, tailFile(options.logFile));
  } finally {
    closeSync(log);
  }
}

/** Polls `probe` until it returns true, `exited` reports the process died, or `timeoutMs` passes. */
export async function waitFor(
  probe: () => Promise<boolean>,
  timeoutMs: number,
  exited: () => string | undefined = () => undefined,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const gone = exited();
    if (gone) return { ok: false, reason: gone };
    if (await probe().catch(() => false)) return { ok: true };
    if (Date.now() >= deadline) return { ok: false, reason: `no healthy answer within ${timeoutMs / 1000}s` };
    await sleep(300);
  }
}
