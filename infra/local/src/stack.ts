import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import {
  COMPONENTS,
  INFRA,
  SERVICES,
  parseRecordedEnv,
  resolveStackConfig,
  type ComponentName,
} from './config';
import { createComponent } from './components';
import { ensureDir, logFile, pidFile, type Component, type StackContext } from './context';
import { StackError, startFailed } from './errors';
import { resolvePaths } from './paths';
import {
  assertPortFree,
  isAlive,
  isSameProgram,
  readPid,
  spawnDaemon,
  stopDaemon,
  tailFile,
  waitFor,
} from './proc';
import { consoleReporter, type Reporter } from './progress';
import { writeAtomic } from './components/toolchain';
import { loadVersions } from './versions';

export function createContext(
  env: NodeJS.ProcessEnv = process.env,
  reporter: Reporter = consoleReporter(),
): StackContext {
  const paths = resolvePaths(env);
  return {
    paths,
    versions: loadVersions(paths.repoRoot),
    config: resolveStackConfig(env, readRecordedEnv(paths.stateDir)),
    reporter,
    env,
    isRoot: process.getuid?.() === 0,
  };
}

const recordFile = (stateDir: string): string => path.join(stateDir, 'stack.env');

/**
 * What `up` recorded in `<state>/stack.env`: the client variables of the components this stack manages
 * (their own addresses), so an exported copy of them is recognised as the stack's own, not as external.
 */
export function readRecordedEnv(stateDir: string): Record<string, string> {
  const file = recordFile(stateDir);
  return existsSync(file) ? parseRecordedEnv(readFileSync(file, 'utf8')) : {};
}

/** The pid of a managed server this stack started and that is still running. */
export function runningPid(ctx: StackContext, name: ComponentName): number | undefined {
  const record = readPid(pidFile(ctx, name));
  return record && isAlive(record.pid) && isSameProgram(record) ? record.pid : undefined;
}

export interface UpResult {
  /** Servers this call started (already-running and external ones excluded). */
  readonly started: ComponentName[];
  /** Environment for clients of the stack. */
  readonly env: Record<string, string>;
}

/**
 * Brings the selected components up in three phases, so a failure leaves nothing half-started:
 * 1. preflight: tools present, ports free (nothing changed yet);
 * 2. provision: downloads and builds into the cache (nothing running yet);
 * 3. start every server, then wait for each to be healthy; on any failure, stop what this call started.
 */
export async function up(ctx: StackContext, names: readonly ComponentName[] = COMPONENTS): Promise<UpResult> {
  ensureDir(ctx.paths.logDir);
  ensureDir(ctx.paths.runDir);
  const components = names.map((name) => createComponent(ctx, name));
  const external = components.filter((c) => !ctx.config[c.name].managed);
  const managed = components.filter((c) => ctx.config[c.name].managed);
  const toStart = managed.filter((c) => c.kind === 'server' && runningPid(ctx, c.name) === undefined);

  for (const c of managed) await c.preflight();
  for (const c of toStart) {
    rmSync(pidFile(ctx, c.name), { force: true }); // stale: the process is gone
    for (const port of ctx.config[c.name].ports)
      await assertPortFree(port, c.name, ctx.config[c.name].envVar);
  }

  for (const c of managed) await c.provision();

  const started: ComponentName[] = [];
  const children = new Map<ComponentName, ChildProcess>();
  try {
    // Tier by tier: the services start only once the infrastructure they migrate and connect to is healthy.
    for (const tier of [INFRA as readonly ComponentName[], SERVICES as readonly ComponentName[]]) {
      for (const c of toStart.filter((c) => tier.includes(c.name))) {
        await c.prepare?.();
        const options = c.launch?.();
        if (!options) continue;
        const child = spawnDaemon(options);
        children.set(c.name, child);
        started.push(c.name);
      }
      for (const c of components.filter((c) => c.kind === 'server' && tier.includes(c.name))) {
        await waitHealthy(ctx, c, children.get(c.name));
        await c.afterStart?.();
      }
    }
  } catch (error) {
    await stopAll(ctx, [...started].reverse(), { quiet: true });
    throw error;
  }
  for (const c of external)
    ctx.reporter.info(`· ${c.name}: using ${ctx.config[c.name].envVar}=${ctx.config[c.name].address}`);
  const env = exportsOf(components);
  // Only the stack's own instances are recorded (an external address must stay external next time), and
  // the records of components outside this call are kept: `up order` must not forget postgres's.
  writeAtomic(
    recordFile(ctx.paths.stateDir),
    renderEnv({ ...readRecordedEnv(ctx.paths.stateDir), ...exportsOf(managed) }),
  );
  return { started, env };
}

async function waitHealthy(ctx: StackContext, c: Component, child: ChildProcess | undefined): Promise<void> {
  const exited = (): string | undefined =>
    child && child.exitCode !== null
      ? `it exited with code ${child.exitCode}`
      : child?.signalCode
        ? `it was killed (${child.signalCode})`
        : undefined;
  if (!child) {
    // Already running or external: a quick check, no start-up wait.
    const result = await waitFor(() => c.healthy(), 3_000);
    if (!result.ok) {
      const cfg = ctx.config[c.name];
      throw cfg.managed
        ? startFailed(
            c.name,
            `the running instance does not answer (${result.reason})`,
            logFile(ctx, c.name),
            tailFile(logFile(ctx, c.name)),
          )
        : new StackError(
            `${cfg.envVar} points at ${cfg.address}, but ${c.name} does not answer there.`,
            `Start it, or unset ${cfg.envVar} to let the stack provision one.`,
          );
    }
    return;
  }
  await ctx.reporter.step(`waiting for ${c.name} to be healthy`, async () => {
    const result = await waitFor(() => c.healthy(), c.startTimeoutMs ?? 30_000, exited);
    if (!result.ok)
      throw startFailed(c.name, result.reason, logFile(ctx, c.name), tailFile(logFile(ctx, c.name)));
  });
}

export function exportsOf(components: readonly Component[]): Record<string, string> {
  return Object.assign({}, ...components.map((c) => c.exports())) as Record<string, string>;
}

export const renderEnv = (env: Record<string, string>): string =>
  Object.entries(env)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n') + '\n';

/** Stops managed servers that have a pid file, in reverse start order; leaves external ones alone. */
export async function stopAll(
  ctx: StackContext,
  names: readonly ComponentName[] = [...COMPONENTS].reverse(),
  { quiet = false } = {},
): Promise<ComponentName[]> {
  const stopped: ComponentName[] = [];
  for (const name of names) {
    const c = createComponent(ctx, name);
    if (c.kind !== 'server' || !existsSync(pidFile(ctx, name))) continue;
    if (!ctx.config[name].managed) {
      // The variable points somewhere else than the instance the stack started (its own address, even
      // exported with `eval "$(npm run -s stack -- env)"`, keeps it managed): that one is left alone.
      if (!quiet) {
        const { envVar, address } = ctx.config[name];
        ctx.reporter.info(
          `· ${name}: left running — ${envVar}=${redact(address)} is not the stack's own ${name}, so it counts as external; unset ${envVar} to stop the one the stack started.`,
        );
      }
      continue;
    }
    const stop = (): Promise<boolean> => stopDaemon(pidFile(ctx, name), c.stopSignal ?? 'SIGTERM', 30_000);
    if (quiet) await stop();
    else await ctx.reporter.step(`stopping ${name}`, stop);
    stopped.push(name);
  }
  return stopped;
}

export interface StatusRow {
  readonly component: ComponentName;
  readonly version: string;
  readonly pid: string;
  readonly address: string;
  readonly healthy: string;
}

export async function status(
  ctx: StackContext,
  names: readonly ComponentName[] = COMPONENTS,
): Promise<StatusRow[]> {
  return Promise.all(
    names.map(async (name): Promise<StatusRow> => {
      const c = createComponent(ctx, name);
      const cfg = ctx.config[name];
      const pid = runningPid(ctx, name);
      const address = Object.values(c.exports())[0] ?? cfg.address;
      if (c.kind === 'tool') {
        return {
          component: name,
          version: c.version,
          pid: 'tool',
          address,
          healthy: (await c.healthy()) ? 'installed' : 'missing',
        };
      }
      const healthy = cfg.managed && pid === undefined ? 'down' : (await c.healthy()) ? 'yes' : 'no';
      return {
        component: name,
        version: c.version,
        pid: cfg.managed ? String(pid ?? '-') : 'external',
        address: redact(address),
        healthy,
      };
    }),
  );
}

/** Hides passwords in URLs before printing them. */
export function redact(address: string): string {
  return address.replace(/(\/\/[^:/@]+:)[^@]+@/, '$1***@');
}

export function formatTable(rows: readonly StatusRow[]): string {
  const header: StatusRow = {
    component: 'component' as ComponentName,
    version: 'version',
    pid: 'pid',
    address: 'address',
    healthy: 'healthy',
  };
  const all = [header, ...rows];
  const keys = Object.keys(header) as (keyof StatusRow)[];
  const widths = keys.map((k) => Math.max(...all.map((r) => String(r[k]).length)));
  return all
    .map((r) =>
      keys
        .map((k, i) => String(r[k]).padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
