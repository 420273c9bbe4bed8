import type { Component, StackContext } from '../context';
import { goToolComponent } from './go-tool';
import { goBinaryPath, type GoBinary } from './toolchain';

/** kustomize's own module (Apache-2.0); its main package is the module root. */
export const KUSTOMIZE_MODULE = 'sigs.k8s.io/kustomize/kustomize/v5';

/**
 * How the stack builds kustomize: `go install` of the module root. Pinned below the newest release:
 * 5.8.3 (kustomize/api 0.21.3) requires Go 1.27, and the stack builds with the Go the machine has.
 */
export function kustomizeBuild(ctx: StackContext): GoBinary {
  const version = ctx.versions.kustomize;
  return {
    name: 'kustomize',
    version,
    binary: goBinaryPath(ctx, 'kustomize', version, 'kustomize'),
    package: KUSTOMIZE_MODULE,
  };
}

/** kustomize renders k8s/ (base, components, overlays) for the deploy validation (`npm run k8s:validate`). */
export const kustomizeComponent = (ctx: StackContext): Component =>
  goToolComponent(ctx, 'kustomize', kustomizeBuild(ctx), 'KUSTOMIZE_BIN');
