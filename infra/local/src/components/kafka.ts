import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LOOPBACK } from '../config';
import { ensureDir, logFile, pidFile, provisionLog, type Component, type StackContext } from '../context';
import { run } from '../proc';
import { mavenArgs, requireJava, requireTool, writeAtomic } from './toolchain';

/** Renders the broker's properties template; Kafka itself does not expand placeholders. */
export function renderTemplate(template: string, values: Record<string, string>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (whole, key: string) => values[key] ?? whole);
}

/**
 * Adds the PROXIED listener to the rendered broker properties, beside the template's PLAINTEXT and
 * CONTROLLER listeners (left as they are). It is bound on loopback at `bindPort` but advertised at
 * `proxyPort`, where a Toxiproxy proxy forwarding to `bindPort` listens (the failure lab creates it). A
 * client that bootstraps through the proxy is told, in every metadata response, that the broker lives at
 * the proxy — so it keeps talking through the proxy (and its toxics) instead of reaching the broker
 * directly once it has read metadata, as it would from the PLAINTEXT listener's advertised address.
 * Without the proxy nothing listens at `proxyPort`: this listener serves only clients that go through it.
 *
 * Listeners are broker configuration, not part of the formatted KRaft storage: an existing data directory
 * keeps working, and the listener appears once the broker restarts with the new properties.
 */
export function withProxiedListener(properties: string, bindPort: number, proxyPort: number): string {
  const append = (text: string, key: string, entry: string): string => {
    const line = new RegExp(`^(${key.replace(/\./g, '\\.')}=.+)$`, 'm');
    if (!line.test(text)) throw new Error(`kafka-server.properties.template has no ${key}= line`);
    return text.replace(line, `$1,${entry}`);
  };
  let rendered = append(properties, 'listeners', `PROXIED://${LOOPBACK}:${bindPort}`);
  rendered = append(rendered, 'advertised.listeners', `PROXIED://${LOOPBACK}:${proxyPort}`);
  return append(rendered, 'listener.security.protocol.map', 'PROXIED:PLAINTEXT');
}

/** A Kafka cluster id: 16 random bytes, base64url without padding (Kafka's Uuid text form). */
export const newClusterId = (): string => randomBytes(16).toString('base64url');

export function kafkaComponent(ctx: StackContext): Component {
  const cfg = ctx.config.kafka;
  const { version, log4j } = ctx.versions.kafka;
  const [brokerPort = 9092, controllerPort = 9093, proxiedPort = 9094] = cfg.ports;
  const [proxyPort = 9095] = cfg.proxyPorts;
  const jvmDir = path.join(ctx.paths.repoRoot, 'infra', 'local', 'jvm');
  const classpathFile = path.join(ctx.paths.cacheDir, 'kafka', version, 'classpath.txt');
  const home = path.join(ctx.paths.stateDir, 'kafka', version);
  const dataDir = path.join(home, 'data');
  const propsFile = path.join(home, 'server.properties');
  const classpath = (): string => readFileSync(classpathFile, 'utf8').trim();
  const java = (): string => requireTool(ctx, 'java', 'run the Kafka broker');

  return {
    name: 'kafka',
    version,
    kind: 'server',
    stopSignal: 'SIGTERM', // controlled shutdown; the broker flushes and exits
    startTimeoutMs: 90_000,
    async preflight() {
      await requireJava(ctx, 'run the Kafka broker');
      if (!existsSync(classpathFile)) requireTool(ctx, 'mvn', 'resolve the Kafka broker from Maven Central');
    },
    async provision() {
      if (existsSync(classpathFile)) return;
      const staging = `${classpathFile}.partial`;
      await ctx.reporter.step(`resolving Apache Kafka ${version} from Maven Central (first run only)`, () =>
        run(
          'mvn',
          mavenArgs(
            ctx,
            '-f',
            path.join(jvmDir, 'pom.xml'),
            `-Dkafka.version=${version}`,
            `-Dlog4j.version=${log4j}`,
            'dependency:build-classpath',
            '-Dmdep.includeScope=runtime',
            `-Dmdep.outputFile=${staging}`,
          ),
          { logFile: provisionLog(ctx, 'kafka'), what: `Apache Kafka ${version}` },
        ),
      );
      writeAtomic(classpathFile, readFileSync(staging, 'utf8'));
    },
    async prepare() {
      ensureDir(dataDir);
      const template = readFileSync(path.join(jvmDir, 'kafka-server.properties.template'), 'utf8');
      const rendered = renderTemplate(template, {
        DATA_DIR: dataDir,
        BROKER_PORT: String(brokerPort),
        CONTROLLER_PORT: String(controllerPort),
      });
      writeAtomic(propsFile, withProxiedListener(rendered, proxiedPort, proxyPort));
      if (existsSync(path.join(dataDir, 'meta.properties'))) return;
      // KRaft storage is formatted once, with this node as the single initial voter.
      await ctx.reporter.step('formatting Kafka storage (KRaft)', () =>
        run(
          java(),
          [
            '-cp',
            classpath(),
            'kafka.tools.StorageTool',
            'format',
            '-t',
            newClusterId(),
            '-c',
            propsFile,
            '--standalone',
          ],
          { logFile: provisionLog(ctx, 'kafka'), what: 'Kafka storage (format)' },
        ),
      );
    },
    launch: () => ({
      command: java(),
      args: [
        '-Xms256m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${path.join(jvmDir, 'kafka-log4j2.properties')}`,
        `-Dkafka.logs.dir=${ensureDir(path.join(ctx.paths.logDir, 'kafka'))}`,
        '-cp',
        classpath(),
        'kafka.Kafka',
        propsFile,
      ],
      logFile: logFile(ctx, 'kafka'),
      pidFile: pidFile(ctx, 'kafka'),
    }),
    async healthy() {
      const admin = new Kafka({
        clientId: 'saga-lab-stack',
        brokers: cfg.address.split(','),
        connectionTimeout: 1_000,
        requestTimeout: 2_000,
        retry: { retries: 0 },
        logLevel: logLevel.NOTHING,
      }).admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null;
      } catch {
        return false;
      } finally {
        await admin.disconnect().catch(() => undefined);
      }
    },
    // KAFKA_PROXIED_BROKERS: where a client reaches the broker through Toxiproxy, once a proxy listens
    // there and forwards to KAFKA_PROXIED_UPSTREAM, the PROXIED listener (see withProxiedListener). The
    // stack's own broker only: an external one has no such listener.
    exports: () => ({
      KAFKA_BROKERS: cfg.address,
      ...(cfg.managed
        ? {
            KAFKA_PROXIED_BROKERS: `${LOOPBACK}:${proxyPort}`,
            KAFKA_PROXIED_UPSTREAM: `${LOOPBACK}:${proxiedPort}`,
          }
        : {}),
    }),
  };
}
