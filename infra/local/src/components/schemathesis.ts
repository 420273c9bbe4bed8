import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { provisionLog, type Component, type StackContext } from '../context';
import { downloadFailed } from '../errors';
import { run, which } from '../proc';
import { requirePython, writeAtomic } from './toolchain';

const execFileAsync = promisify(execFile);

export interface SchemathesisInstall {
  /** The virtualenv, one per pinned version. */
  readonly venv: string;
  /** The venv's console script: what SCHEMATHESIS_BIN points at. */
  readonly binary: string;
  /** Written last, once `schemathesis --version` answered the pinned version: the install is whole. */
  readonly marker: string;
}

export function schemathesisInstall(cacheDir: string, version: string): SchemathesisInstall {
  const dir = path.join(cacheDir, 'schemathesis', version);
  const venv = path.join(dir, 'venv');
  return { venv, binary: path.join(venv, 'bin', 'schemathesis'), marker: path.join(dir, 'installed') };
}

/**
 * Whole when the marker names this version and the venv's interpreter still resolves: a venv links to the
 * Python that made it, so removing or upgrading that Python (pyenv, apt) breaks it without touching the venv.
 */
export function isInstalled(install: SchemathesisInstall, version: string): boolean {
  try {
    return (
      readFileSync(install.marker, 'utf8').trim() === version &&
      existsSync(path.join(install.venv, 'bin', 'python')) &&
      which(install.binary) !== undefined
    );
  } catch {
    return false;
  }
}

/**
 * Schemathesis (property-based API testing from an OpenAPI document) is a tool: provisioned for the
 * contract tests, never started. It is a Python program, so it lives in a virtualenv under the cache,
 * keyed by the pinned version; pip resolves its dependencies from PyPI (or PIP_INDEX_URL) on first run.
 */
export function schemathesisComponent(ctx: StackContext): Component {
  const cfg = ctx.config.schemathesis;
  const version = ctx.versions.schemathesis;
  const install = schemathesisInstall(ctx.paths.cacheDir, version);
  const binary = cfg.managed ? install.binary : cfg.address;
  const neededFor = `install schemathesis ${version} from PyPI`;
  return {
    name: 'schemathesis',
    version: cfg.managed ? version : 'external',
    kind: 'tool',
    async preflight() {
      if (cfg.managed && !isInstalled(install, version)) await requirePython(ctx, neededFor);
    },
    async provision() {
      if (!cfg.managed || isInstalled(install, version)) return;
      const python = await requirePython(ctx, neededFor);
      const log = provisionLog(ctx, 'schemathesis');
      const what = `schemathesis ${version}`;
      const env = { ...ctx.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1' };
      await ctx.reporter.step(`installing schemathesis ${version} from PyPI (first run only)`, async () => {
        // Whatever an interrupted run left is discarded: a venv cannot be moved into place afterwards
        // (its scripts name their own absolute path), so completeness is recorded by the marker instead.
        rmSync(path.dirname(install.marker), { recursive: true, force: true });
        await run(python, ['-m', 'venv', install.venv], { logFile: log, what, env });
        await run(
          path.join(install.venv, 'bin', 'python'),
          ['-m', 'pip', 'install', '--no-cache-dir', '--quiet', `schemathesis==${version}`],
          { logFile: log, what, env },
        );
        const { stdout } = await execFileAsync(install.binary, ['--version'], { env });
        if (!stdout.includes(version)) throw downloadFailed(what, log, `schemathesis --version: ${stdout}`);
        writeAtomic(install.marker, `${version}\n`);
      });
    },
    healthy: async () => (cfg.managed ? isInstalled(install, version) : which(binary) !== undefined),
    exports: () => ({ SCHEMATHESIS_BIN: binary }),
  };
}
