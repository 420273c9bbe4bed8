import { execFile } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ensureDir, provisionLog, type StackContext } from '../context';
import { StackError, downloadFailed, toolMissing } from '../errors';
import { run, which } from '../proc';

const execFileAsync = promisify(execFile);

export const INSTALL_HINTS = {
  java: 'a Java 17+ runtime, e.g. `apt-get install openjdk-17-jre-headless`',
  mvn: 'Apache Maven, e.g. `apt-get install maven`',
  go: 'Go 1.26.7 or newer from go.dev/dl, or `apt-get install golang` where recent enough',
  python3: 'Python 3.11 or newer with its venv module, e.g. `apt-get install python3 python3-venv`',
} as const;

export function requireTool(ctx: StackContext, tool: keyof typeof INSTALL_HINTS, neededFor: string): string {
  const found = which(tool, ctx.env['PATH']);
  if (!found) throw toolMissing(tool, neededFor, INSTALL_HINTS[tool]);
  return found;
}

/** Java's major version, from `java -version` (printed on stderr). */
export async function javaMajor(java: string): Promise<number> {
  const { stderr } = await execFileAsync(java, ['-version']);
  const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr);
  if (!match) return 0;
  const major = Number(match[1]);
  return major === 1 ? Number(match[2]) : major;
}

export async function requireJava(ctx: StackContext, neededFor: string): Promise<string> {
  const java = requireTool(ctx, 'java', neededFor);
  const major = await javaMajor(java);
  if (major < 17) {
    throw new StackError(
      `Java ${major} was found; Java 17 or newer is needed to ${neededFor}.`,
      `Install ${INSTALL_HINTS.java} and put it first on PATH.`,
    );
  }
  return java;
}

/** The oldest Python the pip-installed tools (schemathesis 4 requires >=3.11) support. */
export const MINIMUM_PYTHON: readonly [number, number] = [3, 11];

/** Parses the `major.minor venv-ok|no-venv` line printed by the probe in `requirePython`. */
export function parsePythonProbe(
  output: string,
): { major: number; minor: number; venv: boolean } | undefined {
  const match = /^(\d+)\.(\d+) (venv-ok|no-venv)$/m.exec(output);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]), venv: match[3] === 'venv-ok' };
}

/**
 * A python3 recent enough to create virtualenvs. Debian splits `venv`/`ensurepip` into python3-venv, and
 * without it `python3 -m venv` fails half-way; it is checked up front so the error names the fix.
 */
export async function requirePython(ctx: StackContext, neededFor: string): Promise<string> {
  const python = requireTool(ctx, 'python3', neededFor);
  const probe =
    'import sys\ntry:\n    import venv, ensurepip\n    ok = "venv-ok"\nexcept ImportError:\n    ok = "no-venv"\n' +
    'print("%d.%d %s" % (sys.version_info[0], sys.version_info[1], ok))';
  let found: ReturnType<typeof parsePythonProbe>;
  try {
    found = parsePythonProbe((await execFileAsync(python, ['-c', probe], { env: ctx.env })).stdout);
  } catch {
    found = undefined;
  }
  const [major, minor] = MINIMUM_PYTHON;
  if (!found) {
    throw new StackError(
      `\`${python}\` did not run as Python 3; it is needed to ${neededFor}.`,
      `Install Python ${major}.${minor} or newer with its venv module (e.g. \`apt-get install python3 python3-venv\`) and put it first on PATH.`,
    );
  }
  if (found.major < major || (found.major === major && found.minor < minor)) {
    throw new StackError(
      `Python ${found.major}.${found.minor} was found; Python ${major}.${minor} or newer is needed to ${neededFor}.`,
      `Install Python ${major}.${minor} or newer with its venv module (e.g. \`apt-get install python3 python3-venv\`) and put it first on PATH.`,
    );
  }
  if (!found.venv) {
    throw new StackError(
      `Python ${found.major}.${found.minor} was found without its venv module; it is needed to ${neededFor}.`,
      `Install it (e.g. \`apt-get install python3-venv\`, or python${found.major}.${found.minor}-venv) and run the command again.`,
    );
  }
  return python;
}

/** Go state (module cache, build cache) lives in the stack's cache, so one directory holds every download. */
export function goEnv(ctx: StackContext, gobin?: string): NodeJS.ProcessEnv {
  const goRoot = path.join(ctx.paths.cacheDir, 'go');
  return {
    ...ctx.env,
    GOPATH: goRoot,
    GOMODCACHE: path.join(goRoot, 'mod'),
    GOCACHE: path.join(goRoot, 'build'),
    GOFLAGS: '-buildvcs=false -modcacherw',
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    ...(gobin ? { GOBIN: gobin } : {}),
  };
}

export interface GoBinary {
  readonly name: string;
  readonly version: string;
  /** Final binary path inside the cache. */
  readonly binary: string;
  /**
   * Either `go install <package>@<version>`, or `go build -o` of `package` inside the module at `moduleDir`
   * or inside `mainModule`.
   */
  readonly package: string;
  readonly moduleDir?: string;
  /**
   * A module downloaded from the proxy at `moduleVersion` (or v<version>) and built from inside as the main
   * module, `package` then being relative to it (`./cmd`): for a module whose go.mod has replace or exclude
   * lines, which `go install <package>@<version>` refuses. Its own go.sum pins what it compiles.
   */
  readonly mainModule?: string;
  /** Extra linker flags, e.g. to stamp the version a program reports. */
  readonly ldflags?: string;
  /** Extra environment for the go command (e.g. GONOSUMDB for modules the checksum database lacks). */
  readonly env?: Readonly<Record<string, string>>;
  /** The module's tag when it is not `v<version>` (Prometheus 3.16.0 is published as module v0.316.0). */
  readonly moduleVersion?: string;
  /** Build tags, e.g. to leave out parts of a program the stack does not use. */
  readonly tags?: readonly string[];
  /**
   * More commands of the same module at the same version (`go install` only), installed beside `binary`
   * in the same build: one module download and one compile of what they share.
   */
  readonly companions?: readonly string[];
}

/**
 * The name `go install` gives a package's binary: its last path element, or the one before a major-version
 * suffix (github.com/tsenart/vegeta/v12 installs `vegeta`, not `v12`), as the go command's DefaultExecName.
 */
export function goCommandName(pkg: string): string {
  const elements = pkg.split('/');
  const last = elements.at(-1) ?? pkg;
  return elements.length > 1 && /^v([2-9]|[1-9]\d+)$/.test(last) ? (elements.at(-2) ?? last) : last;
}

export const goBinaryPath = (ctx: StackContext, name: string, version: string, bin: string): string =>
  path.join(ctx.paths.cacheDir, name, version, 'bin', bin);

/**
 * Builds a Go program from the module proxy once per version; the binary is moved into place only when
 * whole. The module and build caches it needed are then removed: they are several GB for Consul alone,
 * and nothing but a version bump (which downloads anew anyway) would use them again.
 */
export async function buildGoBinary(ctx: StackContext, spec: GoBinary): Promise<void> {
  if (existsSync(spec.binary)) return;
  requireTool(ctx, 'go', `build ${spec.name} from the Go module proxy`);
  const staging = ensureDir(path.join(path.dirname(spec.binary), '.staging'));
  const log = provisionLog(ctx, spec.name);
  const options = { logFile: log, what: `${spec.name} ${spec.version}` };
  const flags = [
    '-trimpath',
    ...(spec.ldflags ? ['-ldflags', spec.ldflags] : []),
    ...(spec.tags?.length ? ['-tags', spec.tags.join(',')] : []),
  ];
  await ctx.reporter.step(
    `building ${spec.name} ${spec.version} from the Go module proxy (first run only)`,
    async () => {
      if (spec.moduleDir || spec.mainModule) {
        const env = { ...goEnv(ctx), ...spec.env };
        const cwd =
          spec.moduleDir ??
          (
            await goModDownload(
              ctx,
              spec.mainModule ?? '',
              spec.moduleVersion ?? `v${spec.version}`,
              log,
              env,
            )
          ).dir;
        const out = path.join(staging, path.basename(spec.binary));
        await run('go', ['build', ...flags, '-o', out, spec.package], { ...options, cwd, env });
        renameSync(out, spec.binary);
      } else {
        const version = spec.moduleVersion ?? `v${spec.version}`;
        const companions = spec.companions ?? [];
        await run(
          'go',
          ['install', ...flags, ...[spec.package, ...companions].map((p) => `${p}@${version}`)],
          {
            ...options,
            env: { ...goEnv(ctx, staging), ...spec.env },
          },
        );
        // The companions first: `binary` existing is what marks the build as done.
        for (const companion of companions) {
          const name = goCommandName(companion);
          renameSync(path.join(staging, name), path.join(path.dirname(spec.binary), name));
        }
        renameSync(path.join(staging, goCommandName(spec.package)), spec.binary);
      }
      await run('go', ['clean', '-cache', '-modcache'], {
        ...options,
        what: 'the Go caches (clean-up)',
        env: goEnv(ctx),
      });
    },
  );
  rmSync(staging, { recursive: true, force: true });
}

/**
 * Downloads one module version into the stack's module cache (the go command checks it against go.sum's
 * checksum database); returns the directory it was unpacked to and its checksum (go.sum's h1: hash).
 */
export async function goModDownload(
  ctx: StackContext,
  module: string,
  version: string,
  logFile: string,
  env: NodeJS.ProcessEnv = goEnv(ctx),
): Promise<{ dir: string; sum: string }> {
  const what = `${module}@${version}`;
  ensureDir(path.dirname(logFile));
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('go', ['mod', 'download', '-json', what], {
      env,
      maxBuffer: 1024 * 1024,
    }));
  } catch (error) {
    // `go mod download -json` prints its error inside the JSON on stdout, and exits non-zero.
    const output = (error as { stdout?: string }).stdout ?? String(error);
    writeFileSync(logFile, `\n$ go mod download -json ${what}\n${output}\n`, { flag: 'a' });
    throw downloadFailed(what, logFile, output.trim());
  }
  writeFileSync(logFile, `\n$ go mod download -json ${what}\n${stdout}\n`, { flag: 'a' });
  const { Dir: dir, Sum: sum } = JSON.parse(stdout) as { Dir?: string; Sum?: string };
  if (!dir) throw downloadFailed(what, logFile, stdout.trim());
  return { dir, sum: sum ?? '' };
}

/** Maven runs offline-capable against a repository inside the stack's cache. */
export function mavenArgs(ctx: StackContext, ...args: string[]): string[] {
  return ['-B', '-q', '-ntp', `-Dmaven.repo.local=${path.join(ctx.paths.cacheDir, 'm2')}`, ...args];
}

/** Writes a file atomically (temp + rename), so an interrupted provision never leaves a half-written result. */
export function writeAtomic(file: string, content: string): void {
  ensureDir(path.dirname(file));
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  renameSync(tmp, file);
}

/** Throws unless a missing Debian package can be installed here (root on a system with apt-get). */
export function assertInstallable(ctx: StackContext, pkg: string, neededFor: string): void {
  if (!ctx.isRoot || !which('apt-get', ctx.env['PATH'])) {
    throw new StackError(
      `${pkg} is not installed; it is needed to ${neededFor}, and it is installed automatically only as root on Debian or Ubuntu.`,
      `Install it (\`sudo apt-get install ${pkg}\`), or set the environment variable that points at a running one.`,
    );
  }
}

/**
 * Installs a Debian package when running as root. The package's own init scripts are kept from starting
 * a second server (policy-rc.d), since the stack runs its own instance.
 */
export async function aptInstall(ctx: StackContext, pkg: string, neededFor: string): Promise<void> {
  assertInstallable(ctx, pkg, neededFor);
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  const env = { ...ctx.env, DEBIAN_FRONTEND: 'noninteractive' };
  const log = provisionLog(ctx, pkg);
  const install = (): Promise<void> =>
    run('apt-get', ['install', '-y', '-q', '--no-install-recommends', pkg], { logFile: log, what: pkg, env });
  try {
    await ctx.reporter.step(`installing ${pkg} from Debian's packages`, async () => {
      try {
        await install();
      } catch {
        // Package lists on a fresh machine are often missing or stale.
        await run('apt-get', ['update', '-q'], { logFile: log, what: 'the Debian package lists', env });
        await install();
      }
    });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

/** Looks up a system user's uid/gid in /etc/passwd (Node has no getpwnam). */
export function systemUser(name: string, passwd: string): { uid: number; gid: number } | undefined {
  for (const line of passwd.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}
