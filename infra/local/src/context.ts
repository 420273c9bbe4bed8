import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { ComponentName, StackConfig } from './config';
import type { StackPaths } from './paths';
import type { Reporter } from './progress';
import type { DaemonOptions } from './proc';
import type { Versions } from './versions';

export interface StackContext {
  readonly paths: StackPaths;
  readonly versions: Versions;
  readonly config: StackConfig;
  readonly reporter: Reporter;
  readonly env: NodeJS.ProcessEnv;
  readonly isRoot: boolean;
}

/** One piece of the local stack. Servers are provisioned, started, probed and stopped; tools only provisioned. */
export interface Component {
  readonly name: ComponentName;
  readonly version: string;
  readonly kind: 'server' | 'tool';
  /** Checks that what provisioning needs (java, go, mvn, apt) is there; throws a StackError naming the fix. */
  preflight(): Promise<void>;
  /** Downloads, builds or installs what is missing. Idempotent; results cached by version. */
  provision(): Promise<void>;
  /** One-time setup of the component's state (storage format, initdb); idempotent. */
  prepare?(): Promise<void>;
  launch?(): DaemonOptions;
  /** The signal for a graceful stop of the process `launch` started. */
  readonly stopSignal?: NodeJS.Signals;
  readonly startTimeoutMs?: number;
  /** A quick probe against the component's client address. */
  healthy(): Promise<boolean>;
  /** Runs once the component is healthy (e.g. creating per-service databases); idempotent. */
  afterStart?(): Promise<void>;
  /** Environment variables that clients (tests, services) use to reach it. */
  exports(): Record<string, string>;
}

export const logFile = (ctx: StackContext, name: string): string =>
  path.join(ctx.paths.logDir, `${name}.log`);
export const pidFile = (ctx: StackContext, name: ComponentName): string =>
  path.join(ctx.paths.runDir, `${name}.pid`);
export const provisionLog = (ctx: StackContext, name: string): string =>
  path.join(ctx.paths.logDir, `provision-${name}.log`);

export function ensureDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
