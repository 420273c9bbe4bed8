import Redis from 'ioredis';
import path from 'node:path';
import { LOOPBACK } from '../config';
import { ensureDir, logFile, pidFile, type Component, type StackContext } from '../context';
import { which } from '../proc';
import { aptInstall, assertInstallable } from './toolchain';

export function redisComponent(ctx: StackContext): Component {
  const cfg = ctx.config.redis;
  const port = cfg.ports[0] ?? 6379;
  const binary = (): string | undefined => which('redis-server', ctx.env['PATH']);
  return {
    name: 'redis',
    version: `${ctx.versions.redis.minimumMajor}+ (Debian)`,
    kind: 'server',
    stopSignal: 'SIGTERM',
    startTimeoutMs: 15_000,
    async preflight() {
      if (!binary()) assertInstallable(ctx, ctx.versions.redis.debianPackage, 'run Redis');
    },
    async provision() {
      if (!binary()) await aptInstall(ctx, ctx.versions.redis.debianPackage, 'run Redis');
    },
    launch() {
      const dir = ensureDir(path.join(ctx.paths.stateDir, 'redis'));
      return {
        command: binary() ?? 'redis-server',
        // A cache and a rate-limit store: no persistence, loopback only.
        args: ['--bind', LOOPBACK, '--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir],
        logFile: logFile(ctx, 'redis'),
        pidFile: pidFile(ctx, 'redis'),
      };
    },
    async healthy() {
      const client = new Redis(cfg.address, {
        lazyConnect: true,
        connectTimeout: 1_000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        return (await client.ping()) === 'PONG';
      } catch {
        return false;
      } finally {
        client.disconnect();
      }
    },
    exports: () => ({ REDIS_URL: cfg.address }),
  };
}
