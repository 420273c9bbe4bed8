import { existsSync } from 'node:fs';
import type { ComponentName } from '../config';
import type { Component, StackContext } from '../context';
import { which } from '../proc';
import { buildGoBinary, requireTool, type GoBinary } from './toolchain';

/**
 * A command-line tool built from the Go module proxy once per version and never started (vegeta, the
 * deploy tools): `build` says how, `envVar` names the variable that exports its path. The variable set to a
 * binary of the user's own makes the component external; then nothing is built.
 */
export function goToolComponent(
  ctx: StackContext,
  name: ComponentName,
  build: GoBinary,
  envVar: string,
): Component {
  const cfg = ctx.config[name];
  const binary = cfg.managed ? build.binary : cfg.address;
  return {
    name,
    version: cfg.managed ? build.version : 'external',
    kind: 'tool',
    async preflight() {
      if (cfg.managed && !existsSync(build.binary)) {
        requireTool(ctx, 'go', `build ${build.name} ${build.version} from the Go module proxy`);
      }
    },
    async provision() {
      if (cfg.managed) await buildGoBinary(ctx, build);
    },
    healthy: async () => which(binary) !== undefined,
    exports: () => ({ [envVar]: binary }),
  };
}
