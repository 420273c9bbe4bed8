import Redis from 'ioredis';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { StackError } from '../errors';
import path from 'node:path';
import { LOOPBACK } from '../config';
import { ensureDir, logFile, pidFile, type Component, type StackContext } from '../context';
import { which } from '../proc';
import { aptInstall, assertInstallable } from './toolchain';

const execFileAsync = promisify(execFile);

/**
 * Redis is BSD-3-Clause up to 7.2; 7.4 moved to RSALv2/SSPLv1 and 8.0 added AGPLv3 — none of them an
 * open-source licence the project may provision. A newer redis-server on PATH is refused by name.
 */
export function assertBsdRedis(versionOutput: string, newestBsd: string): void {
  const match = /v=(\d+)\.(\d+)\.(\d+)/.exec(versionOutput);
  if (!match) {
    throw new StackError(
      `Could not read the version of redis-server (\`redis-server --version\` printed: ${versionOutput.trim() || 'nothing'}).`,
      'Install a Redis release under the BSD licence (7.2 or older, e.g. Debian 12’s redis-server), or set REDIS_URL.',
    );
  }
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const [maxMajor, maxMinor] = newestBsd.split('.').map(Number) as [number, number];
  if (major > maxMajor || (major === maxMajor && minor > maxMinor)) {
    throw new StackError(
      `redis-server ${match[1]}.${match[2]}.${match[3]} is not under an open-source licence (Redis after ${newestBsd} is RSALv2/SSPLv1, 8.x adds AGPLv3); the stack runs only BSD releases.`,
      `Install Redis ${newestBsd} or older (Debian 12's redis-server is 7.0), or point REDIS_URL at a Redis-compatible server you chose.`,
    );
  }
}

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
      const found = await execFileAsync(binary() ?? 'redis-server', ['--version']).then(
        ({ stdout }) => stdout,
        () => '',
      );
      assertBsdRedis(found, ctx.versions.redis.newestBsd);
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
