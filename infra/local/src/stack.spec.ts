import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sumResults } from './commands/test';
import { StackError } from './errors';
import { silentReporter } from './progress';
import { createContext, formatTable, redact, up } from './stack';

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
