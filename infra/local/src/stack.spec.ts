import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sumResults } from './commands/test';
import { StackError } from './errors';
import { isAlive } from './proc';
import { silentReporter } from './progress';
import { createContext, formatTable, readRecordedEnv, redact, stopAll, up } from './stack';

const stateDir = (): string => mkdtempSync(path.join(os.tmpdir(), 'stack-'));
/** The user's profile, whatever profile runs these tests, and nothing of the caller's stack variables. */
const userEnv = (state: string, vars: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  PATH: process.env['PATH'],
  HOME: process.env['HOME'],
  SAGA_LAB_STATE_DIR: state,
  ...vars,
});

describe('the stack’s own addresses, exported into the shell (eval "$(npm run -s stack -- env)")', () => {
  it('recognises what up recorded in <state>/stack.env as its own', () => {
    const state = stateDir();
    const admin = 'postgres://postgres:s3cr3t@127.0.0.1:5432/postgres';
    writeFileSync(path.join(state, 'stack.env'), `DATABASE_URL=${admin}\nORDER_URL=http://127.0.0.1:3001\n`);
    expect(readRecordedEnv(state)).toEqual({ DATABASE_URL: admin, ORDER_URL: 'http://127.0.0.1:3001' });
    const ctx = createContext(userEnv(state, { DATABASE_URL: admin, ORDER_URL: 'http://127.0.0.1:3001' }));
    expect(ctx.config.postgres.managed).toBe(true);
    expect(ctx.config.order.managed).toBe(true);
    expect(readRecordedEnv(path.join(state, 'missing'))).toEqual({});
  });

  it('up keeps the records of components outside the call, and never records an external address', async () => {
    const state = stateDir();
    const recorded =
      'DATABASE_URL=postgres://postgres:pw@127.0.0.1:5432/postgres\nORDER_URL=http://127.0.0.1:3001\n';
    writeFileSync(path.join(state, 'stack.env'), recorded);
    const server: Server = createServer((_, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const external = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const ctx = createContext(userEnv(state, { ORDER_URL: external }), silentReporter());
      expect(ctx.config.order.managed).toBe(false);
      const { env } = await up(ctx, ['order']);
      expect(env['ORDER_URL']).toBe(external);
      expect(readFileSync(path.join(state, 'stack.env'), 'utf8')).toBe(recorded);
    } finally {
      server.close();
    }
  }, 15_000);

  it('down stops the stack’s own server although its address is exported', async () => {
    const state = stateDir();
    mkdirSync(path.join(state, 'run'), { recursive: true });
    // A stand-in for the stack's redis: a process of this test's own, in a group of its own.
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pid = child.pid ?? 0;
    writeFileSync(
      path.join(state, 'run', 'redis.pid'),
      JSON.stringify({ pid, startedAt: new Date().toISOString(), command: 'sleep 30' }),
    );
    const lines: string[] = [];
    const ctx = createContext(userEnv(state, { REDIS_URL: 'redis://127.0.0.1:6379' }), silentReporter(lines));
    try {
      expect(await stopAll(ctx, ['redis'])).toEqual(['redis']);
      expect(isAlive(pid)).toBe(false);
      expect(existsSync(path.join(state, 'run', 'redis.pid'))).toBe(false);
    } finally {
      if (isAlive(pid)) child.kill('SIGKILL');
    }
  }, 40_000);

  it('down leaves a server the stack started alone when the variable points elsewhere, and says why', async () => {
    const state = stateDir();
    mkdirSync(path.join(state, 'run'), { recursive: true });
    writeFileSync(
      path.join(state, 'run', 'redis.pid'),
      JSON.stringify({ pid: 1, startedAt: new Date().toISOString(), command: 'redis-server' }),
    );
    const lines: string[] = [];
    const ctx = createContext(
      userEnv(state, { REDIS_URL: 'redis://cache.internal:6379' }),
      silentReporter(lines),
    );
    expect(await stopAll(ctx, ['redis'])).toEqual([]);
    expect(lines).toEqual([
      "· redis: left running — REDIS_URL=redis://cache.internal:6379 is not the stack's own redis, so it counts as external; unset REDIS_URL to stop the one the stack started.",
    ]);
  });
});

describe('up with an external endpoint', () => {
  it('checks it answers, and says which variable points where when it does not', async () => {
    const env = {
      ...process.env,
      SAGA_LAB_PROFILE: '', // the user's profile, whatever profile runs this test
      SAGA_LAB_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'stack-')),
      REDIS_URL: 'redis://127.0.0.1:1',
    };
    const error = await up(createContext(env, silentReporter()), ['redis']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackError);
    expect((error as StackError).message).toBe(
      'REDIS_URL points at redis://127.0.0.1:1, but redis does not answer there.',
    );
    expect((error as StackError).fix).toBe('Start it, or unset REDIS_URL to let the stack provision one.');
  }, 15_000);

  it('in the test profile, names the SAGA_LAB_TEST_ variable, and ignores the user’s own', async () => {
    const env = {
      ...process.env,
      SAGA_LAB_PROFILE: 'test',
      SAGA_LAB_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'stack-')),
      REDIS_URL: 'redis://127.0.0.1:2',
      SAGA_LAB_TEST_REDIS_URL: 'redis://127.0.0.1:1',
    };
    const error = await up(createContext(env, silentReporter()), ['redis']).catch((e: unknown) => e);
    expect((error as StackError).message).toBe(
      'SAGA_LAB_TEST_REDIS_URL points at redis://127.0.0.1:1, but redis does not answer there.',
    );
  }, 15_000);
});

describe('status output', () => {
  it('never prints a password', () => {
    expect(redact('postgres://postgres:s3cr3t@127.0.0.1:5432/postgres')).toBe(
      'postgres://postgres:***@127.0.0.1:5432/postgres',
    );
    expect(redact('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
  });

  it('prints an aligned table with a header', () => {
    const table = formatTable([
      { component: 'kafka', version: '4.1.1', pid: '123', address: '127.0.0.1:9092', healthy: 'yes' },
      {
        component: 'schemathesis',
        version: '4.32.5',
        pid: 'tool',
        address: '/cache/st',
        healthy: 'installed',
      },
    ]);
    expect(table.split('\n')).toEqual([
      'component     version  pid   address         healthy',
      'kafka         4.1.1    123   127.0.0.1:9092  yes',
      'schemathesis  4.32.5   tool  /cache/st       installed',
    ]);
  });
});

describe('test totals', () => {
  it('adds up every run summary', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'results-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'a.unit.json'), JSON.stringify({ passed: 10, failed: 0, skipped: 1 }));
    writeFileSync(path.join(dir, 'b.integration.json'), JSON.stringify({ passed: 5, failed: 2, skipped: 0 }));
    expect(sumResults(dir)).toEqual({ passed: 15, failed: 2, skipped: 1 });
    expect(sumResults(path.join(dir, 'missing'))).toEqual({ passed: 0, failed: 0, skipped: 0 });
  });
});
