import { existsSync } from 'node:fs';
import path from 'node:path';
import { LOOPBACK } from '../config';
import { logFile, pidFile, provisionLog, type Component, type StackContext } from '../context';
import { run } from '../proc';
import { httpOk } from './probes';
import { mavenArgs, requireJava, requireTool } from './toolchain';

/** Spans Zipkin's in-memory store keeps (the newest). */
export const ZIPKIN_MAX_SPANS = 40_000;

export function zipkinComponent(ctx: StackContext): Component {
  const cfg = ctx.config.zipkin;
  const version = ctx.versions.zipkin;
  const jar = path.join(
    ctx.paths.cacheDir,
    'm2',
    'io',
    'zipkin',
    'zipkin-server',
    version,
    `zipkin-server-${version}-exec.jar`,
  );
  const java = (): string => requireTool(ctx, 'java', 'run Zipkin');
  return {
    name: 'zipkin',
    version,
    kind: 'server',
    stopSignal: 'SIGTERM',
    startTimeoutMs: 90_000,
    async preflight() {
      await requireJava(ctx, 'run Zipkin');
      if (!existsSync(jar)) requireTool(ctx, 'mvn', 'download Zipkin from Maven Central');
    },
    async provision() {
      if (existsSync(jar)) return;
      // The exec jar is self-contained: fetch it alone (not the dependencies its pom lists). Maven writes it
      // into the repository only once it is complete.
      await ctx.reporter.step(`downloading Zipkin ${version} from Maven Central (first run only)`, () =>
        run(
          'mvn',
          mavenArgs(
            ctx,
            '-f',
            path.join(ctx.paths.repoRoot, 'infra', 'local', 'jvm', 'pom.xml'),
            'dependency:get',
            `-Dartifact=io.zipkin:zipkin-server:${version}:jar:exec`,
            '-Dtransitive=false',
          ),
          { logFile: provisionLog(ctx, 'zipkin'), what: `Zipkin ${version}` },
        ),
      );
    },
    launch: () => ({
      command: java(),
      args: [
        '-Xms64m',
        '-Xmx256m',
        '-XX:+UseSerialGC',
        '-XX:+ExitOnOutOfMemoryError', // a full in-memory store must crash visibly, not answer 500s while healthy
        '-jar',
        jar,
        `--armeria.ports[0].ip=${LOOPBACK}`,
        `--armeria.ports[0].port=${cfg.ports[0]}`,
        '--armeria.ports[0].protocols[0]=http',
      ],
      // The in-memory store keeps the newest spans up to MEM_MAX_SPANS, at about 1.7 KB each on the heap:
      // 100,000 filled the 256 MB heap after one failure-lab pass (old generation 100 %, back-to-back full
      // GCs, span intake stalling). 40,000 (~70 MB) keeps the last few experiments' traces with room to spare.
      env: { ...ctx.env, STORAGE_TYPE: 'mem', MEM_MAX_SPANS: String(ZIPKIN_MAX_SPANS) },
      logFile: logFile(ctx, 'zipkin'),
      pidFile: pidFile(ctx, 'zipkin'),
    }),
    healthy: () => httpOk(`${cfg.address}/health`, (body) => body.includes('UP')),
    exports: () => ({ ZIPKIN_URL: cfg.address }),
  };
}
