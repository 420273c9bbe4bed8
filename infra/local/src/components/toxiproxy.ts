import { existsSync } from 'node:fs';
import { LOOPBACK } from '../config';
import { logFile, pidFile, type Component, type StackContext } from '../context';
import { httpOk } from './probes';
import { buildGoBinary, goBinaryPath, requireTool } from './toolchain';

export function toxiproxyComponent(ctx: StackContext): Component {
  const cfg = ctx.config.toxiproxy;
  const version = ctx.versions.toxiproxy;
  const binary = goBinaryPath(ctx, 'toxiproxy', version, 'server');
  return {
    name: 'toxiproxy',
    version,
    kind: 'server',
    stopSignal: 'SIGTERM',
    startTimeoutMs: 15_000,
    async preflight() {
      if (!existsSync(binary)) requireTool(ctx, 'go', 'build Toxiproxy from the Go module proxy');
    },
    provision: () =>
      buildGoBinary(ctx, {
        name: 'toxiproxy',
        version,
        binary,
        package: 'github.com/Shopify/toxiproxy/v2/cmd/server',
        ldflags: `-X github.com/Shopify/toxiproxy/v2.Version=${version}`,
      }),
    launch: () => ({
      command: binary,
      args: ['-host', LOOPBACK, '-port', String(cfg.ports[0])],
      logFile: logFile(ctx, 'toxiproxy'),
      pidFile: pidFile(ctx, 'toxiproxy'),
    }),
    healthy: () => httpOk(`${cfg.address}/version`),
    exports: () => ({ TOXIPROXY_URL: cfg.address }),
  };
}
