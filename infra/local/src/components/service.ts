import { build } from 'esbuild';
import path from 'node:path';
import type { ServiceName } from '../config';
import { logFile, pidFile, type Component, type StackContext } from '../context';
import { StackError } from '../errors';
import { loadSecrets } from '../secrets';
import { httpOk } from './probes';

const ENV_PREFIX: Record<ServiceName, string> = {
  inventory: 'INVENTORY',
  payment: 'PAYMENT',
  order: 'ORDER',
  gateway: 'GATEWAY',
};

/**
 * One of Saga Lab's services as a stack component: bundled with esbuild (our code only; npm packages
 * stay external), run on the bundled Node 24 with the stack's endpoints in its environment, healthy
 * when /health/ready says so (database and Kafka reachable). It migrates its database when it boots.
 */
export function serviceComponent(
  ctx: StackContext,
  name: ServiceName,
  infraEnv: () => Record<string, string>,
): Component {
  const cfg = ctx.config[name];
  const root = ctx.paths.repoRoot;
  const outfile = path.join(root, 'dist', 'apps', name, 'main.js');
  const prefix = ENV_PREFIX[name];
  return {
    name,
    version: 'workspace',
    kind: 'server',
    stopSignal: 'SIGTERM', // drains: stops consuming, commits, flushes the outbox, deregisters
    startTimeoutMs: 60_000,
    async preflight() {
      // nothing: the npm packages (including esbuild) are installed by the bootstrap
    },
    async provision() {
      await ctx.reporter.step(`building ${name}`, async () => {
        try {
          await build({
            entryPoints: [path.join(root, 'apps', name, 'src', 'main.ts')],
            bundle: true,
            platform: 'node',
            target: 'node24',
            packages: 'external',
            tsconfig: path.join(root, 'tsconfig.base.json'),
            sourcemap: true,
            logLevel: 'silent',
            outfile,
          });
        } catch (error) {
          throw new StackError(
            `Building ${name} failed: ${(error as Error).message}`,
            'Fix the compile error (npm run typecheck shows it), then run the command again.',
          );
        }
      });
    },
    launch: () => ({
      command: process.execPath,
      args: ['--enable-source-maps', outfile],
      cwd: root,
      env: {
        ...ctx.env,
        ...infraEnv(),
        [`${prefix}_PORT`]: String(cfg.ports[0]),
        [`${prefix}_HOST`]: '127.0.0.1',
        ...(name === 'order' ? { INVENTORY_URL: ctx.config.inventory.address } : {}),
        ...(name === 'gateway' ? gatewayEnv(ctx) : {}),
      },
      logFile: logFile(ctx, name),
      pidFile: pidFile(ctx, name),
    }),
    healthy: () => httpOk(`${cfg.address}/health/ready`),
    exports: () => ({
      [`${prefix}_URL`]: cfg.address,
      ...(name === 'gateway' ? demoCredentials(ctx) : {}),
    }),
  };
}

/** The gateway's secrets (its JWT key, the demo users' passwords): generated per machine, never committed. */
const GATEWAY_SECRETS = ['gateway-jwt-secret', 'demo-alice', 'demo-bob', 'demo-admin'] as const;

function gatewayEnv(ctx: StackContext): Record<string, string> {
  const secrets = loadSecrets(ctx.paths.stateDir, GATEWAY_SECRETS);
  const users = [
    { username: 'alice', password: secrets['demo-alice'], role: 'customer', customerId: 'c-alice' },
    { username: 'bob', password: secrets['demo-bob'], role: 'customer', customerId: 'c-bob' },
    { username: 'admin', password: secrets['demo-admin'], role: 'admin' },
  ];
  return {
    GATEWAY_JWT_SECRET: `${secrets['gateway-jwt-secret']}${secrets['gateway-jwt-secret']}`,
    GATEWAY_USERS: JSON.stringify(users),
    GATEWAY_CORS_ORIGINS: 'http://localhost:3000,http://127.0.0.1:3000',
  };
}

/** For load scripts and the README's curl examples: one customer's credentials. */
function demoCredentials(ctx: StackContext): Record<string, string> {
  const secrets = loadSecrets(ctx.paths.stateDir, GATEWAY_SECRETS);
  return {
    GATEWAY_DEMO_USER: 'alice',
    GATEWAY_DEMO_PASSWORD: secrets['demo-alice'] ?? '',
    GATEWAY_ADMIN_USER: 'admin',
    GATEWAY_ADMIN_PASSWORD: secrets['demo-admin'] ?? '',
  };
}
