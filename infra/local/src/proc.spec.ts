import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { groupAlive, isAlive, isSameProgram, readPid, run, spawnDaemon, stopDaemon, waitFor } from './proc';
import { StackError } from './errors';

const dir = (): string => mkdtempSync(path.join(os.tmpdir(), 'proc-'));

describe('daemons', () => {
  it('records the pid, logs output, and stop leaves no process of the group behind', async () => {
    const d = dir();
    const options = {
      command: 'sh',
      // The leader starts a child of its own: stopping must take the whole group.
      args: ['-c', 'echo started; sleep 60 & wait'],
      logFile: path.join(d, 'x.log'),
      pidFile: path.join(d, 'x.pid'),
    };
    spawnDaemon(options);
    const record = readPid(options.pidFile);
    expect(record?.pid).toEqual(expect.any(Number));
    const pid = record?.pid ?? -1;
    expect(isAlive(pid)).toBe(true);
    await waitFor(async () => readFileSync(options.logFile, 'utf8').includes('started'), 5_000);

    await expect(stopDaemon(options.pidFile, 'SIGTERM', 5_000)).resolves.toBe(true);
    expect(isAlive(pid)).toBe(false);
    expect(groupAlive(pid)).toBe(false);
    expect(existsSync(options.pidFile)).toBe(false);
  });

  it('kills a process that ignores the stop signal once the grace period ends', async () => {
    const d = dir();
    const pidFile = path.join(d, 'stubborn.pid');
    spawnDaemon({
      command: 'sh',
      args: ['-c', 'trap "" TERM; while :; do sleep 1; done'],
      logFile: path.join(d, 's.log'),
      pidFile,
    });
    const pid = readPid(pidFile)?.pid ?? -1;
    await stopDaemon(pidFile, 'SIGTERM', 300);
    expect(groupAlive(pid)).toBe(false);
  });

  it('has nothing to stop without a pid file', async () => {
    await expect(stopDaemon(path.join(dir(), 'none.pid'), 'SIGTERM', 100)).resolves.toBe(false);
  });
});

describe('provisioning commands', () => {
  it('turn a failure into a download error quoting the end of the log', async () => {
    const logFile = path.join(dir(), 'p.log');
    const error = await run('sh', ['-c', 'echo "404 Not Found: kafka_2.13"; exit 3'], {
      logFile,
      what: 'Apache Kafka 4.0.0',
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toContain(
      `Could not download or build Apache Kafka 4.0.0 (log: ${logFile}).`,
    );
    expect((error as StackError).message).toContain('404 Not Found: kafka_2.13');
    expect((error as StackError).fix).toMatch(/registry is reachable/);
  });
});

describe('waitFor', () => {
  it('reports a process that died instead of waiting out the timeout', async () => {
    const result = await waitFor(
      async () => false,
      60_000,
      () => 'it exited with code 1',
    );
    expect(result).toEqual({ ok: false, reason: 'it exited with code 1' });
  });
});

describe('stale pid files', () => {
  it('recognise our own process, even one that rewrites its command line', async () => {
    const d = dir();
    const pidFile = path.join(d, 'retitled.pid');
    // Like redis-server, the process replaces its title; the executable stays the same.
    spawnDaemon({
      command: 'perl',
      args: ['-e', '$0 = "server 127.0.0.1:6379"; sleep 30'],
      logFile: path.join(d, 'r.log'),
      pidFile,
    });
    const record = readPid(pidFile);
    await waitFor(
      async () => readFileSync(`/proc/${record?.pid}/cmdline`, 'utf8').startsWith('server 127'),
      5_000,
    );
    expect(record && isSameProgram(record)).toBe(true);
    await stopDaemon(pidFile, 'SIGTERM', 2_000);
  });

  it('recognise our own process and reject a pid now used by another program', () => {
    const d = dir();
    const pidFile = path.join(d, 'x.pid');
    spawnDaemon({ command: 'sleep', args: ['30'], logFile: path.join(d, 'x.log'), pidFile });
    const record = readPid(pidFile);
    expect(record && isSameProgram(record)).toBe(true);
    expect(record && isSameProgram({ ...record, executable: '/bin/true' })).toBe(false);
    expect(record && isSameProgram({ ...record, executable: '/no/such/binary' })).toBe(false);
    return stopDaemon(pidFile, 'SIGTERM', 2_000);
  });
});
