import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** Where Debian's `chromium` package puts its launcher. */
export const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const APT_GET = '/usr/bin/apt-get';
const INSTALL = ['install', '-y', '--no-install-recommends', 'chromium'];

export type ChromiumOutcome = { readonly path: string } | { readonly skip: string };

/** What ensureChromium needs from the machine; tests pass their own. */
export interface ChromiumHost {
  executable(path: string): boolean;
  isRoot(): boolean;
  /** Runs a command to completion: its exit code and its output (stdout and stderr). */
  run(command: string, args: readonly string[]): Promise<{ code: number; output: string }>;
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

const runCommand: ChromiumHost['run'] = (command, args) =>
  new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (error) => resolve({ code: -1, output: error.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, output }));
  });

export const systemHost: ChromiumHost = {
  executable: isExecutable,
  isRoot: () => process.getuid?.() === 0,
  run: runCommand,
};

/** apt-get's words when its package lists are missing or stale: then (and only then) `apt-get update` helps. */
const NO_LISTS = /Unable to locate package|has no installation candidate|Failed to fetch|404\s+Not Found/;

const lastLines = (text: string): string => text.trim().split('\n').slice(-3).join(' | ');

/**
 * Debian's Chromium for the lab page's browser test. Found at /usr/bin/chromium; when missing, installed
 * from the machine's own apt sources if we are root and apt-get is there (with `apt-get update` first only
 * when the install fails for want of package lists). Never downloads a browser from anywhere else:
 * otherwise the answer is a reason to skip, which the caller shows.
 */
export async function ensureChromium(host: ChromiumHost = systemHost): Promise<ChromiumOutcome> {
  if (host.executable(DEBIAN_CHROMIUM)) return { path: DEBIAN_CHROMIUM };
  const howTo = "install Debian's package: `sudo apt-get install -y --no-install-recommends chromium`";
  if (!host.executable(APT_GET))
    return { skip: `${DEBIAN_CHROMIUM} is missing and there is no apt-get here; ${howTo}` };
  if (!host.isRoot()) return { skip: `${DEBIAN_CHROMIUM} is missing and installing it needs root; ${howTo}` };

  let install = await host.run(APT_GET, INSTALL);
  if (install.code !== 0 && NO_LISTS.test(install.output)) {
    const update = await host.run(APT_GET, ['update']);
    if (update.code !== 0) return { skip: `apt-get update failed: ${lastLines(update.output)}` };
    install = await host.run(APT_GET, INSTALL);
  }
  if (install.code !== 0) return { skip: `apt-get install chromium failed: ${lastLines(install.output)}` };
  return host.executable(DEBIAN_CHROMIUM)
    ? { path: DEBIAN_CHROMIUM }
    : { skip: `apt-get installed chromium but ${DEBIAN_CHROMIUM} is still missing` };
}
