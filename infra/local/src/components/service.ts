import { build } from 'esbuild';
import path from 'node:path';
import type { ServiceName } from '../config';
import { logFile, pidFile, type Component, type StackContext } from '../context';
import { StackError } from '../errors';
import { httpOk } from './probes';

const ENV_PREFIX: Record<ServiceName, string> = {
  inventory: 'INVENTORY',
  payment: 'PAYMENT',
  order: 'ORDER',
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
      },
      logFile: logFile(ctx, name),
      pidFile: pidFile(ctx, name),
    }),
    healthy: () => httpOk(`${cfg.address}/health/ready`),
    exports: () => ({ [`${prefix}_URL`]: cfg.address }),
  };
}
