import path from 'node:path';
import { LOOPBACK } from '../config';
import { logFile, pidFile, type Component, type StackContext } from '../context';
import { httpOk } from './probes';
import { buildGoBinary, goBinaryPath, requireTool } from './toolchain';
import { existsSync } from 'node:fs';

export function consulComponent(ctx: StackContext): Component {
  const cfg = ctx.config.consul;
  const version = ctx.versions.consul;
  const binary = goBinaryPath(ctx, 'consul', version, 'consul');
  const base = /^https?:\/\//.test(cfg.address) ? cfg.address : `http://${cfg.address}`;
  return {
    name: 'consul',
    version,
    kind: 'server',
    stopSignal: 'SIGINT',
    startTimeoutMs: 30_000,
    async preflight() {
      if (!existsSync(binary)) requireTool(ctx, 'go', 'build Consul from the Go module proxy');
    },
    // Consul's own go.mod carries replace/exclude directives, so `go install consul@version` refuses it;
    // infra/local/go/consul is a wrapper module that pins it (and its submodules) instead.
    provision: () =>
      buildGoBinary(ctx, {
        name: 'consul',
        version,
        binary,
        package: 'github.com/hashicorp/consul',
        moduleDir: path.join(ctx.paths.repoRoot, 'infra', 'local', 'go', 'consul'),
      }),
    launch: () => ({
      command: binary,
      // Dev mode: one in-memory server agent. Everything binds to loopback, DNS included.
      args: [
        'agent',
        '-dev',
        '-bind',
        LOOPBACK,
        '-client',
        LOOPBACK,
        '-log-level',
        'warn',
        '-http-port',
        String(cfg.ports[0]),
      ],
      logFile: logFile(ctx, 'consul'),
      pidFile: pidFile(ctx, 'consul'),
    }),
    healthy: () => httpOk(`${base}/v1/status/leader`, (body) => /"[^"]+:\d+"/.test(body)),
    exports: () => ({ CONSUL_HTTP_ADDR: cfg.address }),
  };
}
