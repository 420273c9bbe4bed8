import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import pg from 'pg';
import { withoutUserStack } from './commands/test';
import { createComponent } from './components';
import { COMPONENTS, DEPLOY_TOOLS, SERVICES, type ComponentName, type ServiceName } from './config';
import { logFile, type StackContext } from './context';
import { isAlive, spawnDaemon, waitFor } from './proc';
import type { Reporter } from './progress';
import { readSecrets } from './secrets';
import { createContext, runningPid, stopAll, up } from './stack';

/** The three databases the checker reads directly (never through a service's API). */
export interface Databases {
  readonly orders: pg.Pool;
  readonly inventory: pg.Pool;
  readonly payments: pg.Pool;
}

/** Environment a lab run gives the services it (re)starts: its id, and what it switches off. */
export type ServiceEnv = Readonly<Record<string, string>>;

const quietReporter = (log: (line: string) => void): Reporter => ({
  info: log,
  step: async (_label, work) => work(),
});

/**
 * The running system as the failure lab and the load tests see it: the local stack of the current profile (the user's, or the test
 * profile's under `npm test`), its client addresses, its databases, and control over its processes —
 * kill one, restart one with lab switches. It never reaches anything the stack did not start.
 */
export class System {
  private ctx: StackContext;
  private exportsEnv: Record<string, string> = {};
  private pools: Databases | undefined;
  /** Lab switches each service currently runs with ('' = the defaults). */
  private readonly serviceEnv = new Map<ServiceName, ServiceEnv>();
  private readonly built = new Set<ComponentName>();

  constructor(
    private readonly baseEnv: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
  ) {
    this.ctx = this.contextWith({});
  }

  static fromProcess(log: (line: string) => void): System {
    // `npm run lab` runs under `stack exec`, which exports the stack's client variables; they must not make
    // the stack's own components look external (then they could not be restarted).
    return new System(withoutUserStack(process.env), log);
  }

  get stateDir(): string {
    return this.ctx.paths.stateDir;
  }
  get repoRoot(): string {
    return this.ctx.paths.repoRoot;
  }
  get labDir(): string {
    return path.join(this.ctx.paths.stateDir, 'lab');
  }
  get isTestProfile(): boolean {
    return this.baseEnv['SAGA_LAB_PROFILE'] === 'test';
  }

  address(name: ComponentName): string {
    return this.ctx.config[name].address;
  }

  env(name: string): string {
    const value = this.exportsEnv[name];
    if (!value) throw new Error(`the stack exports no ${name}; is it up?`);
    return value;
  }

  /** The demo customers' credentials (generated per machine by the stack). */
  customers(): { username: string; password: string }[] {
    const secrets = readSecrets(this.stateDir);
    return ['alice', 'bob'].map((username) => {
      const password = secrets[`demo-${username}`];
      if (!password) throw new Error(`no password for ${username}: start the stack first (npm start)`);
      return { username, password };
    });
  }

  /** Brings up whatever is not running yet (infrastructure, then the services): the lab uses the running system. */
  async ensureUp(): Promise<void> {
    // Without the contract tests' fuzzer and the deploy validation's tools: the running system needs neither.
    const { env } = await up(
      this.ctx,
      COMPONENTS.filter((c) => c !== 'schemathesis' && !(DEPLOY_TOOLS as readonly string[]).includes(c)),
    );
    this.exportsEnv = env;
  }

  /** The stack's client addresses, without starting anything (for the lab page, a reader). */
  readAddresses(): void {
    this.exportsEnv = Object.assign(
      {},
      ...COMPONENTS.map((name) => createComponent(this.ctx, name).exports()),
    ) as Record<string, string>;
  }

  databases(): Databases {
    if (!this.pools) {
      const pool = (url: string): pg.Pool =>
        new pg.Pool({ connectionString: this.env(url), max: 3 }).on('error', () => undefined); // a restart drops idle clients
      this.pools = {
        orders: pool('ORDER_DATABASE_URL'),
        inventory: pool('INVENTORY_DATABASE_URL'),
        payments: pool('PAYMENT_DATABASE_URL'),
      };
    }
    return this.pools;
  }

  pid(name: ComponentName): number | undefined {
    return runningPid(this.ctx, name);
  }

  /** SIGKILL: no drain, no goodbye — the process is simply gone. */
  async kill(name: ComponentName): Promise<void> {
    const pid = this.pid(name);
    if (pid === undefined) throw new Error(`${name} is not running`);
    process.kill(pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(50);
    this.log(`  ✝ ${name} (pid ${pid}) SIGKILLed`);
  }

  /** Starts a component that is down (after a kill, or a stop), with the lab switches its service had. */
  async start(name: ComponentName): Promise<void> {
    const env = SERVICES.includes(name as ServiceName) ? this.serviceEnv.get(name as ServiceName) : {};
    await this.launch(name, env ?? {});
    this.log(`  ↑ ${name} started`);
  }

  /**
   * Starts a component the stack has built before, without rebuilding it (a restart in a fault should take
   * the time a process takes to boot, not a build); falls back to the stack's full `up` otherwise.
   */
  private async launch(name: ComponentName, env: ServiceEnv): Promise<void> {
    const ctx = this.contextWith(env);
    const component = createComponent(ctx, name);
    const options = component.launch?.();
    // A service is built once per lab process (the first start goes through the stack, which bundles it).
    const isService = SERVICES.includes(name as ServiceName);
    const built =
      !isService ||
      (this.built.has(name) && existsSync(path.join(this.repoRoot, 'dist', 'apps', name, 'main.js')));
    if (!options || !built || this.pid(name) !== undefined) {
      await up(ctx, [name]);
      this.built.add(name);
      return;
    }
    await component.prepare?.();
    const child = spawnDaemon(options);
    const exited = (): string | undefined =>
      child.exitCode !== null ? `it exited with code ${child.exitCode}` : undefined;
    const result = await waitFor(() => component.healthy(), component.startTimeoutMs ?? 60_000, exited);
    if (!result.ok)
      throw new Error(`${name} did not come back: ${result.reason} (see ${logFile(ctx, name)})`);
    await component.afterStart?.();
  }

  /** A graceful stop (SIGTERM, drain), as a deploy or an orchestrator would do. */
  async stop(name: ComponentName): Promise<void> {
    await stopAll(this.ctx, [name], { quiet: true });
    this.log(`  ↓ ${name} stopped`);
  }

  /**
   * Runs the services with these lab switches (restarting those whose switches change); `{}` for each
   * restores the defaults. Every lab-started service carries the run id, so its switches are accepted.
   */
  async configureServices(wanted: Partial<Record<ServiceName, ServiceEnv>>, runId: string): Promise<void> {
    for (const name of SERVICES) {
      const env = wanted[name] ?? {};
      const current = this.serviceEnv.get(name) ?? {};
      const same = JSON.stringify(env) === JSON.stringify(current);
      if (same && this.pid(name) !== undefined) continue;
      const next = Object.keys(env).length === 0 ? {} : { ...env, SAGA_LAB_LAB_RUN: runId };
      if (this.pid(name) !== undefined) await this.stop(name);
      this.serviceEnv.set(name, next);
      await this.launch(name, next);
      if (!same) this.log(`  ↻ ${name} running with ${describeEnv(next)}`);
    }
  }

  /** Restarts one service with these switches on top of the run's (e.g. its relay held back), until changed again. */
  async restartWith(
    name: ServiceName,
    extra: ServiceEnv,
    runId: string,
    how: 'kill' | 'stop' = 'stop',
  ): Promise<void> {
    if (this.pid(name) !== undefined) await (how === 'kill' ? this.kill(name) : this.stop(name));
    const base = Object.fromEntries(Object.entries(this.serviceEnv.get(name) ?? {}));
    const next = { ...base, ...extra, SAGA_LAB_LAB_RUN: runId };
    this.serviceEnv.set(name, next);
    await this.launch(name, next);
    this.log(`  ↻ ${name} running with ${describeEnv(next)}`);
  }

  /**
   * Starts another instance of a service on a spare port (same consumer group: Kafka rebalances the
   * partitions over both). Returns a handle to SIGKILL or SIGTERM it.
   */
  spawnExtra(name: ServiceName, port: number): ChildProcess {
    const launch = createComponent(this.contextWith(this.serviceEnv.get(name) ?? {}), name).launch?.();
    if (!launch) throw new Error(`${name} cannot be launched`);
    const prefix = name.toUpperCase();
    const child = spawn(launch.command, [...launch.args], {
      cwd: launch.cwd,
      env: { ...launch.env, [`${prefix}_PORT`]: String(port) },
      stdio: 'ignore',
    });
    child.on('error', () => undefined);
    return child;
  }

  async close(): Promise<void> {
    if (this.pools) await Promise.all(Object.values(this.pools).map((p: pg.Pool) => p.end()));
    this.pools = undefined;
  }

  private contextWith(extra: ServiceEnv): StackContext {
    return createContext({ ...this.baseEnv, ...extra }, quietReporter(this.log));
  }
}

const describeEnv = (env: ServiceEnv): string => {
  const shown = Object.entries(env).filter(([key]) => key !== 'SAGA_LAB_LAB_RUN');
  return shown.length === 0 ? 'the defaults' : shown.map(([k, v]) => `${k}=${v}`).join(' ');
};
