import type { Component, StackContext } from '../context';
import { goToolComponent } from './go-tool';
import { goBinaryPath, type GoBinary } from './toolchain';

/** The module whose root is vegeta's main package (MIT). */
export const VEGETA_MODULE = 'github.com/tsenart/vegeta/v12';

/** How the stack builds vegeta: `go install` of the module root, into the cache, one binary per version. */
export function vegetaBuild(ctx: StackContext): GoBinary {
  const version = ctx.versions.vegeta;
  return {
    name: 'vegeta',
    version,
    binary: goBinaryPath(ctx, 'vegeta', version, 'vegeta'),
    package: VEGETA_MODULE,
    // What `vegeta -version` reports: main.Version is empty unless set at link time.
    ldflags: `-X main.Version=v${version}`,
  };
}

/**
 * Vegeta, the HTTP load generator of load-tests/ (constant-rate, open-model attacks), is a tool: built once
 * per version from the Go module proxy, never started. `VEGETA_BIN` in the environment points at a vegeta
 * of the user's own instead; then nothing is built.
 */
export const vegetaComponent = (ctx: StackContext): Component =>
  goToolComponent(ctx, 'vegeta', vegetaBuild(ctx), 'VEGETA_BIN');
