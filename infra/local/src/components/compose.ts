import type { Component, StackContext } from '../context';
import { goToolComponent } from './go-tool';
import { goBinaryPath, type GoBinary } from './toolchain';

/** Docker Compose v2's module (Apache-2.0); its command is the package ./cmd. */
export const COMPOSE_MODULE = 'github.com/docker/compose/v2';

/**
 * How the stack builds Docker Compose: inside its downloaded module, as the main module, because its go.mod
 * has exclude lines that `go install …@version` refuses. The binary is named docker-compose: so named, it
 * runs standalone (not as a plugin of the docker CLI, which is not needed).
 */
export function composeBuild(ctx: StackContext): GoBinary {
  const version = ctx.versions.compose;
  return {
    name: 'compose',
    version,
    binary: goBinaryPath(ctx, 'compose', version, 'docker-compose'),
    package: './cmd',
    mainModule: COMPOSE_MODULE,
    // What `docker-compose version` prints.
    ldflags: `-X ${COMPOSE_MODULE}/internal.Version=v${version}`,
  };
}

/**
 * Docker Compose checks infra/compose/compose.yaml (`config --quiet`) in the deploy validation; that needs
 * no Docker engine, and the stack never runs containers with it.
 */
export const composeComponent = (ctx: StackContext): Component =>
  goToolComponent(ctx, 'compose', composeBuild(ctx), 'DOCKER_COMPOSE_BIN');
