import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { StackContext } from '@saga-lab/stack';

const execFileAsync = promisify(execFile);

export const COMPOSE_FILE = (ctx: StackContext): string =>
  path.join(ctx.paths.repoRoot, 'infra', 'compose', 'compose.yaml');

/** The Compose v2 binary the stack builds (DOCKER_COMPOSE_BIN), else `docker compose` as installed. */
export function composeCommand(env: NodeJS.ProcessEnv): readonly [string, ...string[]] {
  const bin = env['DOCKER_COMPOSE_BIN'];
  return bin ? [bin] : ['docker', 'compose'];
}

export interface ComposeProject {
  /** Compose project name: containers, network and volumes are labelled with it. */
  readonly name: string;
  readonly envFile: string;
  /** Host ports the gateway, Zipkin and Prometheus are published on (loopback only). */
  readonly ports: { readonly gateway: number; readonly zipkin: number; readonly prometheus: number };
}

export async function compose(
  ctx: StackContext,
  project: ComposeProject,
  args: readonly string[],
  timeoutMs = 600_000,
): Promise<string> {
  const [command, ...prefix] = composeCommand(ctx.env);
  const { stdout } = await execFileAsync(
    command,
    [
      ...prefix,
      '--file',
      COMPOSE_FILE(ctx),
      '--project-name',
      project.name,
      '--env-file',
      project.envFile,
      ...args,
    ],
    {
      env: {
        ...ctx.env,
        SAGA_LAB_COMPOSE_GATEWAY_PORT: String(project.ports.gateway),
        SAGA_LAB_COMPOSE_ZIPKIN_PORT: String(project.ports.zipkin),
        SAGA_LAB_COMPOSE_PROMETHEUS_PORT: String(project.ports.prometheus),
      },
      timeout: timeoutMs,
      maxBuffer: 64 << 20,
    },
  ).catch((error: unknown) => {
    const e = error as { stderr?: string; message: string };
    throw new Error(`compose ${args.join(' ')} failed: ${(e.stderr ?? '').trim() || e.message}`, {
      cause: error,
    });
  });
  return stdout;
}

const secret = (bytes = 24): string => randomBytes(bytes).toString('base64url');

export interface ComposeSecrets {
  readonly demoUser: string;
  readonly demoPassword: string;
  readonly adminPassword: string;
}

/**
 * Writes a compose env file with fresh random secrets (database passwords, the gateway's JWT key, the demo
 * users' passwords) unless it exists; returns the demo credentials it holds. Never committed.
 */
export function writeComposeEnv(file: string): ComposeSecrets {
  if (existsSync(file)) return readComposeSecrets(file);
  const alice = secret(12);
  const admin = secret(12);
  const users = [
    { username: 'alice', password: alice, role: 'customer', customerId: 'c-alice' },
    { username: 'bob', password: secret(12), role: 'customer', customerId: 'c-bob' },
    { username: 'admin', password: admin, role: 'admin' },
  ];
  const lines = [
    '# Generated secrets for infra/compose (random per machine; do not commit).',
    `POSTGRES_PASSWORD=${secret()}`,
    `POSTGRES_PASSWORD_ORDER=${secret()}`,
    `POSTGRES_PASSWORD_INVENTORY=${secret()}`,
    `POSTGRES_PASSWORD_PAYMENT=${secret()}`,
    `GATEWAY_JWT_SECRET=${secret(48)}`,
    `GATEWAY_USERS='${JSON.stringify(users)}'`,
    `GATEWAY_DEMO_PASSWORD=${alice}`,
    `GATEWAY_ADMIN_PASSWORD=${admin}`,
  ];
  writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return { demoUser: 'alice', demoPassword: alice, adminPassword: admin };
}

function readComposeSecrets(file: string): ComposeSecrets {
  const text = readFileSync(file, 'utf8');
  const value = (key: string): string => new RegExp(`^${key}=(.*)$`, 'm').exec(text)?.[1] ?? '';
  return {
    demoUser: 'alice',
    demoPassword: value('GATEWAY_DEMO_PASSWORD'),
    adminPassword: value('GATEWAY_ADMIN_PASSWORD'),
  };
}

/** What is left of a project: its containers, networks and volumes (all labelled by Compose). */
export async function leftovers(
  project: string,
): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
  const list = async (args: string[]): Promise<string[]> => {
    const { stdout } = await execFileAsync('docker', [
      ...args,
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--quiet',
    ]);
    return stdout.split('\n').filter(Boolean);
  };
  return {
    containers: await list(['ps', '--all']),
    networks: await list(['network', 'ls']),
    volumes: await list(['volume', 'ls']),
  };
}

/** Memory each running container of the project uses now (docker stats), in bytes. */
export async function memoryByContainer(project: string): Promise<Record<string, number>> {
  const { stdout: ids } = await execFileAsync('docker', [
    'ps',
    '--filter',
    `label=com.docker.compose.project=${project}`,
    '--quiet',
  ]);
  const running = ids.split('\n').filter(Boolean);
  if (running.length === 0) return {};
  const { stdout } = await execFileAsync('docker', [
    'stats',
    '--no-stream',
    '--format',
    '{{.Name}}\t{{.MemUsage}}',
    ...running,
  ]);
  const units: Record<string, number> = {
    B: 1,
    KiB: 2 ** 10,
    MiB: 2 ** 20,
    GiB: 2 ** 30,
    kB: 1e3,
    MB: 1e6,
    GB: 1e9,
  };
  const usage: Record<string, number> = {};
  for (const line of stdout.split('\n').filter(Boolean)) {
    const [name = '', mem = ''] = line.split('\t');
    const match = /^([\d.]+)\s*([A-Za-z]+)/.exec(mem.trim());
    if (match?.[1] && match[2]) usage[name] = Number(match[1]) * (units[match[2]] ?? 1);
  }
  return usage;
}
