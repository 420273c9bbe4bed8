import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { StackContext } from '../context';
import { COMPONENT_SPECS, INFRA, SERVICE_DATABASES, isTestProfile } from '../config';
import { StackError } from '../errors';
import { stopAll, up } from '../stack';

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
}

/** Adds up the per-run summaries written by tools/jest/summary-reporter.cjs. */
export function sumResults(dir: string): Totals {
  const totals: Totals = { passed: 0, failed: 0, skipped: 0 };
  if (!existsSync(dir)) return totals;
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    const run = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Partial<Totals>;
    totals.passed += run.passed ?? 0;
    totals.failed += run.failed ?? 0;
    totals.skipped += run.skipped ?? 0;
  }
  return totals;
}

function run(ctx: StackContext, script: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: ctx.paths.repoRoot,
      env,
      stdio: 'inherit',
    });
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

const nx = (ctx: StackContext, args: string[], env: NodeJS.ProcessEnv): Promise<number> =>
  run(ctx, path.join(ctx.paths.repoRoot, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), args, env);

/** The user's stack as `npm run stack -- env` exports it: no test may reach it through an inherited variable. */
const USER_STACK_VARS = new Set<string>([
  ...Object.values(COMPONENT_SPECS).map((spec) => spec.envVar),
  ...SERVICE_DATABASES.map((d) => d.envVar),
]);
export const withoutUserStack = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(env).filter(([name]) => !USER_STACK_VARS.has(name) && !name.startsWith('GATEWAY_DEMO_')),
  );

/**
 * `npm test`: brings the stack up (only what is not running yet), runs the format check, lint, type checks
 * and unit tests,
 * then the integration tests against the real components and the end-to-end tests (services as processes), prints one closing line with the totals,
 * and stops what it started (unless SAGA_LAB_KEEP_STACK=1).
 */
/** Projects whose end-to-end tests drive the running stack (see below), in the order they run. */
const DRIVERS = ['load-tests', 'lab'] as const;

export async function runTests(ctx: StackContext): Promise<number> {
  const resultsDir = path.join(ctx.paths.repoRoot, 'dist', 'test-results');
  rmSync(resultsDir, { recursive: true, force: true });
  if (!isTestProfile(ctx.env)) {
    throw new StackError(
      'The tests run only against the test profile’s own stack, never the one `npm start` serves.',
      'Run them with `npm test` (it sets SAGA_LAB_PROFILE=test).',
    );
  }
  // Infrastructure only: the end-to-end tests start (and kill) their own service processes.
  const { started, env: stackEnv } = await up(ctx, INFRA);
  const env = {
    ...withoutUserStack(ctx.env),
    ...stackEnv,
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    NX_TUI: 'false',
    FORCE_COLOR: ctx.env['FORCE_COLOR'] ?? '0',
  };
  // Each stage runs whatever happened before it, so one run reports everything that is wrong.
  const failedStages: string[] = [];
  const stage = async (name: string, work: () => Promise<number>): Promise<void> => {
    if ((await work()) !== 0) failedStages.push(name);
  };
  try {
    const common = ['--skip-nx-cache', '--outputStyle=stream'];
    const prettier = path.join(ctx.paths.repoRoot, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
    await stage('format check (fix: npm run format)', () =>
      run(ctx, prettier, ['--check', '.', '--log-level=warn'], env),
    );
    await stage('lint, type checks and unit tests', () =>
      nx(ctx, ['run-many', '-t', 'lint', 'typecheck', 'test', ...common], env),
    );
    await stage('integration tests', () =>
      nx(ctx, ['run-many', '-t', 'int-test', '--parallel=1', ...common], env),
    );
    // The drivers last, one after the other: the load scenarios reconfigure and restart the stack's
    // services, and the failure lab kills and restarts the shared infrastructure itself (Kafka,
    // PostgreSQL, Redis) — nothing else may be running its tests on them meanwhile, or after them on a
    // state they left behind.
    await stage('end-to-end tests', () =>
      nx(
        ctx,
        ['run-many', '-t', 'e2e-test', '--parallel=1', `--exclude=${DRIVERS.join(',')}`, ...common],
        env,
      ),
    );
    for (const driver of DRIVERS)
      await stage(`end-to-end tests: ${driver}`, () =>
        nx(ctx, ['run', `${driver}:e2e-test`, ...common], env),
      );
  } finally {
    if (started.length > 0 && ctx.env['SAGA_LAB_KEEP_STACK'] !== '1') {
      await stopAll(ctx, [...started].reverse());
    }
  }
  const totals = sumResults(resultsDir);
  for (const name of failedStages) ctx.reporter.info(`✗ ${name}: failed (see above)`);
  if (totals.passed === 0) {
    ctx.reporter.info('No test ran: that counts as a failure.');
    failedStages.push('no test ran');
  }
  // A failed check that is not a test (format, lint, types) still counts, so the closing line never
  // reads "0 failed" on a failing run.
  const failed = totals.failed > 0 ? totals.failed : failedStages.length;
  process.stdout.write(`\ntests: ${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped\n`);
  const code = failed > 0 || failedStages.length > 0 ? 1 : 0;
  return code;
}
