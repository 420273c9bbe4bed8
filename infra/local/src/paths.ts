import os from 'node:os';
import path from 'node:path';
import { isTestProfile } from './config';

export interface StackPaths {
  /** The repository root (holds infra/versions.json). */
  readonly repoRoot: string;
  /** Downloads and builds, keyed by version; safe to delete, slow to refill. */
  readonly cacheDir: string;
  /** Data, logs and pid files of the running stack. */
  readonly stateDir: string;
  readonly logDir: string;
  readonly runDir: string;
}

/**
 * Caches go under the user's cache directory (XDG). Runtime state goes under XDG_STATE_HOME, except for
 * root, whose home is not traversable by the `postgres` system user that PostgreSQL must run as: root's
 * state lives under /var/lib/saga-lab instead.
 */
export function resolvePaths(
  env: NodeJS.ProcessEnv = process.env,
  uid: number = process.getuid?.() ?? -1,
  home: string = os.homedir(),
  repoRoot: string = path.resolve(__dirname, '../../..'),
): StackPaths {
  const cacheDir =
    env['SAGA_LAB_CACHE_DIR'] || path.join(env['XDG_CACHE_HOME'] || path.join(home, '.cache'), 'saga-lab');
  const userStateDir =
    env['SAGA_LAB_STATE_DIR'] ||
    (uid === 0
      ? '/var/lib/saga-lab'
      : path.join(env['XDG_STATE_HOME'] || path.join(home, '.local', 'state'), 'saga-lab'));
  // The test profile keeps its own data, logs and pid files beside the user's, never in them.
  const stateDir = isTestProfile(env) ? path.join(userStateDir, 'test') : userStateDir;
  return {
    repoRoot,
    cacheDir,
    stateDir,
    logDir: path.join(stateDir, 'logs'),
    runDir: path.join(stateDir, 'run'),
  };
}
