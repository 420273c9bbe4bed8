import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { aptInstall, isAlive, spawnDaemon, waitFor, type StackContext } from '@saga-lab/stack';

const execFileAsync = promisify(execFile);

/** Whether a Docker engine answers (the client alone is not enough). */
export async function engineAnswers(env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  return execFileAsync('docker', ['info', '--format', '{{.ServerVersion}}'], { env, timeout: 15_000 }).then(
    ({ stdout }) => stdout.trim().length > 0,
    () => false,
  );
}

/** Why no engine can be had here, or undefined when one can (running, or installable and startable). */
export async function dockerUnavailable(ctx: StackContext): Promise<string | undefined> {
  if (await engineAnswers(ctx.env)) return undefined;
  if (!ctx.isRoot)
    return 'no Docker engine answers, and one is installed and started automatically only as root';
  if (!existsSync('/usr/bin/apt-get') && !existsSync('/usr/sbin/dockerd'))
    return 'no Docker engine answers, and this is not a Debian-like system whose docker.io package could provide one';
  return undefined;
}

export interface DockerEngine {
  /** True when this run started the daemon (and `stop` stops it). */
  readonly started: boolean;
  stop(): Promise<void>;
}

const pidFile = (ctx: StackContext): string => path.join(ctx.paths.stateDir, 'docker', 'dockerd.pid');

/**
 * A Docker engine to build and run the images: the one already running, or — as root on Debian — Debian's
 * docker.io installed when missing and `dockerd` started by this run (its log under the stack's logs).
 */
export async function ensureDocker(ctx: StackContext): Promise<DockerEngine> {
  const none: DockerEngine = { started: false, stop: async () => undefined };
  if (await engineAnswers(ctx.env)) return none;
  const why = await dockerUnavailable(ctx);
  if (why)
    throw new Error(
      `${why}. Install Docker (docs.docker.com/engine/install) and start it, then run the command again.`,
    );
  if (!existsSync('/usr/sbin/dockerd'))
    await aptInstall(ctx, 'docker.io', 'build and run the container images');
  const daemon = spawnDaemon({
    command: '/usr/sbin/dockerd',
    args: ['--pidfile', pidFile(ctx)],
    logFile: path.join(ctx.paths.logDir, 'dockerd.log'),
    pidFile: path.join(ctx.paths.stateDir, 'docker', 'dockerd.launcher.pid'),
    env: ctx.env,
  });
  const pid = daemon.pid;
  await ctx.reporter.step('starting the Docker engine (dockerd)', async () => {
    const ready = await waitFor(
      () => engineAnswers(ctx.env),
      60_000,
      () =>
        pid !== undefined && !isAlive(pid) ? 'dockerd exited (see its log under the stack logs)' : undefined,
    );
    if (!ready.ok) throw new Error(`The Docker engine did not start: ${ready.reason}`);
  });
  return {
    started: true,
    async stop() {
      if (pid === undefined || !isAlive(pid)) return;
      process.kill(pid, 'SIGTERM');
      await waitFor(async () => !isAlive(pid), 30_000);
    },
  };
}
