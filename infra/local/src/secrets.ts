import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { writeAtomic } from './components/toolchain';

export type Secrets = Record<string, string>;

/**
 * Local credentials are generated on first use and kept in the state directory (mode 0600): nothing
 * secret lives in the repository, and every machine gets its own.
 */
export function loadSecrets(stateDir: string, names: readonly string[]): Secrets {
  const file = path.join(stateDir, 'secrets.json');
  const current: Secrets = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Secrets) : {};
  const missing = names.filter((name) => !current[name]);
  if (missing.length > 0) {
    for (const name of missing) current[name] = randomBytes(18).toString('base64url');
    writeAtomic(file, JSON.stringify(current, null, 2));
  }
  return current;
}

export function readSecrets(stateDir: string): Secrets {
  const file = path.join(stateDir, 'secrets.json');
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Secrets) : {};
}
