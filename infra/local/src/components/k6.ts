import { existsSync } from 'node:fs';
import { type Component, type StackContext } from '../context';
import { which } from '../proc';
import { buildGoBinary, goBinaryPath, requireTool } from './toolchain';

/** k6 is a tool, not a server: provisioned so load tests can run, never started by the stack. */
export function k6Component(ctx: StackContext): Component {
  const cfg = ctx.config.k6;
  const version = ctx.versions.k6;
  const binary = cfg.managed ? goBinaryPath(ctx, 'k6', version, 'k6') : cfg.address;
  return {
    name: 'k6',
    version: cfg.managed ? version : 'external',
    kind: 'tool',
    async preflight() {
      if (cfg.managed && !existsSync(binary)) requireTool(ctx, 'go', 'build k6 from the Go module proxy');
    },
    provision: async () => {
      if (cfg.managed) await buildGoBinary(ctx, { name: 'k6', version, binary, package: 'go.k6.io/k6' });
    },
    healthy: async () => which(binary) !== undefined,
    exports: () => ({ K6_BIN: binary }),
  };
}
