// `npm run kind -- …`: gathers the facts a plan needs (kind.ts), then carries the plan out, one program
// after another, their output shown as it comes. Needs no local stack: only docker, kind, kubectl, openssl.
import { spawn, spawnSync } from 'node:child_process';
import {
  constants,
  accessSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createContext } from '@saga-lab/stack';
import { deployedImages, imageRef, imageSpecs } from './images';
import {
  CLUSTER,
  COMMANDS,
  CONTEXT,
  DeployError,
  SECRETS_DIR,
  TLS_FILES,
  demoUsers,
  deployPlan,
  downPlan,
  jobConditionsCommand,
  kindSecretFiles,
  loadPlan,
  parseLoadArgs,
  requireTools,
  statusPlan,
  upPlan,
  type Command,
  type Step,
} from './kind';

const USAGE = `usage:
  npm run kind -- up [--consul] [--ingress-manifest FILE]
      create the kind cluster saga-lab (once), generate its secrets and TLS certificate (once), install
      ingress-nginx from FILE if given, build the images, deploy; prints the URLs
  npm run kind -- deploy [--consul]
      load the images into the cluster, apply k8s/overlays/kind, wait for every rollout
      (--consul: client-side discovery through Consul, k8s/overlays/kind-consul)
  npm run kind -- status
  npm run kind -- load <read|list|orders> [--rate N] [--duration S]
      a vegeta Job against the gateway (k8s/load); prints its report
  npm run kind -- down
      delete the cluster (the secrets in ${SECRETS_DIR} are kept for the next one)`;

const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** Finds an executable on PATH; undefined when there is none. */
function which(tool: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean)) {
    const file = path.join(dir, tool);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Runs a program quietly and returns its exit code and output (for facts, never for changes). */
function probe(argv: readonly string[]): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(argv[0] as string, argv.slice(1), { cwd: repoRoot, encoding: 'utf8' });
  return { status: result.status ?? 1, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}

function clusterExists(): boolean {
  const { status, stdout, stderr } = probe(['kind', 'get', 'clusters']);
  if (status !== 0)
    throw new DeployError(
      `\`kind get clusters\` failed: ${stderr.trim().split('\n').at(-1) ?? `exit code ${status}`}.`,
      'Check that the Docker engine runs (`docker info`), then run the command again.',
    );
  return stdout.split('\n').some((line) => line.trim() === CLUSTER);
}

/** For the commands that only use kubectl: the cluster's context must exist (kind writes it at creation). */
function requireContext(): void {
  const { stdout } = probe(['kubectl', 'config', 'get-contexts', '--output', 'name']);
  if (!stdout.split('\n').some((line) => line.trim() === CONTEXT))
    throw new DeployError(
      `kubectl has no context ${CONTEXT}: there is no kind cluster ${CLUSTER} on this machine.`,
      'Create it with `npm run kind -- up`.',
    );
}

const ingressInstalled = (): boolean =>
  probe(['kubectl', '--context', CONTEXT, 'get', 'namespace', 'ingress-nginx']).status === 0;

/** Whether the overlay's secret files are there; a partial set is refused rather than completed. */
function secretsPresent(): boolean {
  const names = Object.keys(kindSecretFiles());
  const present = names.filter((name) => existsSync(path.join(repoRoot, SECRETS_DIR, name)));
  if (present.length > 0 && present.length < names.length)
    throw new DeployError(
      `${SECRETS_DIR} holds ${present.join(', ')} but not ${names.filter((n) => !present.includes(n)).join(', ')}.`,
      `Delete ${SECRETS_DIR}/*.env and the cluster (npm run kind -- down): PostgreSQL keeps the passwords it was first started with, so all of them are generated together.`,
    );
  return present.length === names.length;
}

const tlsPresent = (): boolean =>
  TLS_FILES.every((file) => existsSync(path.join(repoRoot, SECRETS_DIR, file)));

function readUsers(): ReturnType<typeof demoUsers> {
  const file = path.join(repoRoot, SECRETS_DIR, 'gateway.env');
  return demoUsers(existsSync(file) ? readFileSync(file, 'utf8') : undefined);
}

/** Every image the manifests run, named and tagged as `npm run images` builds them. */
function images(): string[] {
  return deployedImages(imageSpecs(createContext(process.env), 'upstream')).map(imageRef);
}

interface Flags {
  consul: boolean;
  ingressManifest?: string;
}

function parseFlags(command: Command, args: readonly string[]): Flags {
  const flags: Flags = { consul: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--consul') flags.consul = true;
    else if (arg === '--ingress-manifest' && command === 'up') {
      const file = args[++i];
      if (!file || !existsSync(file))
        throw new DeployError(
          `--ingress-manifest needs the path of an existing file${file ? `, and ${file} is not one` : ''}.`,
          'Download ingress-nginx’s manifest for kind (see k8s/README.md) and pass its path.',
        );
      flags.ingressManifest = path.resolve(file);
    } else
      throw new DeployError(`Unknown option ${String(arg)} for ${command}.`, `Run \`npm run kind -- help\`.`);
  }
  return flags;
}

function plan(command: Command, args: readonly string[]): { steps: Step[]; cleanup?: () => void } {
  switch (command) {
    case 'up': {
      const flags = parseFlags(command, args);
      const exists = clusterExists();
      const steps = upPlan(
        {
          clusterExists: exists,
          ingressInstalled: exists && ingressInstalled(),
          secretsPresent: secretsPresent(),
          tlsPresent: tlsPresent(),
          ...(flags.ingressManifest ? { ingressManifest: flags.ingressManifest } : {}),
        },
        { consul: flags.consul, images: images(), users: readUsers() },
      );
      return { steps };
    }
    case 'deploy': {
      const flags = parseFlags(command, args);
      if (!clusterExists())
        throw new DeployError(`There is no kind cluster ${CLUSTER}.`, 'Create it with `npm run kind -- up`.');
      if (!secretsPresent() || !tlsPresent())
        throw new DeployError(
          `${SECRETS_DIR} has no secrets or no TLS certificate yet.`,
          'Run `npm run kind -- up`, which writes them.',
        );
      return {
        steps: deployPlan({
          consul: flags.consul,
          images: images(),
          users: readUsers(),
          ingress: ingressInstalled(),
        }),
      };
    }
    case 'status':
      parseFlags(command, args);
      requireContext();
      return { steps: statusPlan() };
    case 'load': {
      const options = parseLoadArgs(args);
      requireContext();
      const runDir = mkdtempSync(path.join(os.tmpdir(), 'saga-lab-load-'));
      return {
        steps: loadPlan(options, runDir, repoRoot),
        cleanup: () => rmSync(runDir, { recursive: true, force: true }),
      };
    }
    case 'down':
      parseFlags(command, args);
      return { steps: downPlan() };
  }
}

/** Runs a program with the terminal attached; resolves with its exit code. */
function runInherit(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { cwd: repoRoot, stdio: 'inherit' });
    child.once('error', (error) =>
      reject(
        new DeployError(
          `Could not start \`${argv[0]}\`: ${error.message}.`,
          'Check that it is installed and on PATH.',
        ),
      ),
    );
    child.once('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const say = (line: string): void => void process.stderr.write(`${line}\n`);

async function execute(steps: readonly Step[]): Promise<void> {
  for (const step of steps) {
    if (step.kind === 'print') {
      process.stdout.write(`\n${step.text}\n`);
      continue;
    }
    const started = Date.now();
    say(`\n▸ ${step.title}`);
    switch (step.kind) {
      case 'write-secrets': {
        const dir = path.join(repoRoot, step.dir);
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        // `wx`: an existing file is never overwritten (the database keeps the passwords it started with).
        for (const [name, content] of Object.entries(step.files))
          writeFileSync(path.join(dir, name), content, { mode: 0o600, flag: 'wx' });
        break;
      }
      case 'write-file':
        writeFileSync(step.file, step.content);
        break;
      case 'run': {
        const code = await runInherit(step.argv);
        if (code !== 0 && !step.mayFail)
          throw new DeployError(
            `\`${step.argv.join(' ')}\` failed with exit code ${code}.`,
            'Read its output above, fix the cause, then run the command again.',
          );
        break;
      }
      case 'wait-job': {
        const outcome = await waitForJob(step.job, step.timeoutS);
        await execute(step.afterwards);
        if (outcome !== 'Complete')
          throw new DeployError(
            outcome === 'Failed'
              ? `The Job ${step.job} failed (its containers' output is above).`
              : `The Job ${step.job} did not finish within ${step.timeoutS} s.`,
            `Look at \`kubectl --context ${CONTEXT} -n saga-lab describe job ${step.job}\` and the pods' events.`,
          );
        break;
      }
    }
    say(`✓ ${step.title} (${((Date.now() - started) / 1000).toFixed(1)}s)`);
  }
}

/** Polls the Job's conditions every 2 s until it completed or failed, or the time is up. */
async function waitForJob(job: string, timeoutS: number): Promise<'Complete' | 'Failed' | 'timeout'> {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    const types = probe(jobConditionsCommand(job)).stdout.split(/\s+/);
    if (types.includes('Complete')) return 'Complete';
    if (types.includes('Failed')) return 'Failed';
    await sleep(2_000);
  }
  return 'timeout';
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined || command === 'help' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  if (!(COMMANDS as readonly string[]).includes(command))
    throw new DeployError(`Unknown command: ${command}.`, 'Run `npm run kind -- help` for the list.');
  requireTools(command as Command, which);
  const { steps, cleanup } = plan(command as Command, args);
  try {
    await execute(steps);
  } finally {
    cleanup?.();
  }
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof DeployError)
      process.stderr.write(`\nerror: ${error.message}\n  fix: ${error.fix}\n`);
    else
      process.stderr.write(
        `\nerror: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    process.exit(1);
  },
);
