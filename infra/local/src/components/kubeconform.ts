import type { Component, StackContext } from '../context';
import { goToolComponent } from './go-tool';
import { goBinaryPath, type GoBinary } from './toolchain';

/** kubeconform's command (Apache-2.0). */
export const KUBECONFORM_PACKAGE = 'github.com/yannh/kubeconform/cmd/kubeconform';

export function kubeconformBuild(ctx: StackContext): GoBinary {
  const version = ctx.versions.kubeconform;
  return {
    name: 'kubeconform',
    version,
    binary: goBinaryPath(ctx, 'kubeconform', version, 'kubeconform'),
    package: KUBECONFORM_PACKAGE,
    // What `kubeconform -v` prints: main.version is "development" unless set at link time.
    ldflags: `-X main.version=v${version}`,
  };
}

/**
 * kubeconform checks the rendered manifests against the Kubernetes API's schemas. It only ever reads the
 * schemas the stack generates (K8S_SCHEMAS_DIR, see k8s-schemas.ts): the deploy validation never lets it
 * fetch any.
 */
export const kubeconformComponent = (ctx: StackContext): Component =>
  goToolComponent(ctx, 'kubeconform', kubeconformBuild(ctx), 'KUBECONFORM_BIN');
