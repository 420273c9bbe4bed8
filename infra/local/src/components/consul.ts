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
    // infra/local/go/consul is a wrapper module that pins it (and its submodules) instead. 1.16.x is the
    // last MPL-2.0 line; the checksum database lacks some of its submodules' versions, so their hashes come
    // from the wrapper's committed go.sum alone (GONOSUMDB, scoped to HashiCorp's modules).
    provision: () =>
      buildGoBinary(ctx, {
        name: 'consul',
        version,
        binary,
        package: 'github.com/hashicorp/consul',
        moduleDir: path.join(ctx.paths.repoRoot, 'infra', 'local', 'go', 'consul'),
        env: { GONOSUMDB: 'github.com/hashicorp/*' },
      }),
    launch: () => {
      const [http, server, serfLan, serfWan, grpc, grpcTls, dns] = cfg.ports.map(String);
      return {
        command: binary,
        // Dev mode: one in-memory server agent. Everything binds to loopback, DNS included, on the
        // profile's ports (the test profile's agent runs beside the user's).
        args: [
          'agent',
          '-dev',
          '-bind',
          LOOPBACK,
          '-client',
          LOOPBACK,
          '-log-level',
          'warn',
          ...portFlags({ http, server, serfLan, serfWan, grpc, grpcTls, dns }),
        ],
        logFile: logFile(ctx, 'consul'),
        pidFile: pidFile(ctx, 'consul'),
      };
    },
    healthy: () => httpOk(`${base}/v1/status/leader`, (body) => /"[^"]+:\d+"/.test(body)),
    exports: () => ({ CONSUL_HTTP_ADDR: cfg.address }),
  };
}

const PORT_FLAGS = {
  http: '-http-port',
  server: '-server-port',
  serfLan: '-serf-lan-port',
  serfWan: '-serf-wan-port',
  grpc: '-grpc-port',
  grpcTls: '-grpc-tls-port',
  dns: '-dns-port',
} as const;

/** Consul's port flags for the ports given (an external agent has none). */
export function portFlags(ports: Partial<Record<keyof typeof PORT_FLAGS, string>>): string[] {
  return Object.entries(PORT_FLAGS).flatMap(([key, flag]) => {
    const port = ports[key as keyof typeof PORT_FLAGS];
    return port ? [flag, port] : [];
  });
}
