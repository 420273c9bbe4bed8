import { TOPICS, deadLetterTopic, retryTopic } from '@saga-lab/contracts';
import { requireEnv, startServiceProcess, waitUntil, type ServiceProcess } from '@saga-lab/testing';
import { Kafka, logLevel } from 'kafkajs';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { kafkaComponent } from '../src/components/kafka';
import type { StackContext } from '../src/context';
import type { Reporter } from '../src/progress';
import { resolvePaths } from '../src/paths';
import { spawnDaemon, stopDaemon } from '../src/proc';
import { createContext } from '../src/stack';

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const quiet: Reporter = { step: (_, work) => work(), info: () => undefined };

/**
 * The cold path of a first `npm start`: a just-formatted KRaft broker, and the services booting against
 * it at once, each racing the others to create the same topics while partition leaders are still being
 * elected. Every service must come up ready; none may die on "This server does not host this
 * topic-partition" or "Topic creation errors".
 */
describe('cold boot: services against a freshly formatted Kafka broker', () => {
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'saga-lab-cold-'));
  let ctx: StackContext;
  let brokers: string;
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    const base = createContext(process.env, quiet);
    // Every port of its own (the PROXIED listener's too): a stack already running here keeps its ports.
    const [brokerPort, controllerPort, proxiedPort, proxyPort] = [
      await freePort(),
      await freePort(),
      await freePort(),
      await freePort(),
    ];
    brokers = `127.0.0.1:${brokerPort}`;
    ctx = {
      ...base,
      paths: resolvePaths({ ...process.env, SAGA_LAB_PROFILE: '', SAGA_LAB_STATE_DIR: stateDir }),
      config: {
        ...base.config,
        kafka: {
          ...base.config.kafka,
          managed: true,
          address: brokers,
          ports: [brokerPort, controllerPort, proxiedPort],
          proxyPorts: [proxyPort],
        },
      },
    };
  });

  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await stopDaemon(path.join(ctx.paths.runDir, 'kafka.pid'), 'SIGTERM', 30_000);
    rmSync(stateDir, { recursive: true, force: true });
  }, 60_000);

  it('formats fresh storage, and every service booted at once comes up with every partition led', async () => {
    const kafka = kafkaComponent(ctx);
    await kafka.provision(); // the broker's jars are cached by `npm test`'s own stack
    const dataDir = path.join(ctx.paths.stateDir, 'kafka', ctx.versions.kafka.version, 'data');
    expect(existsSync(path.join(dataDir, 'meta.properties'))).toBe(false);
    await kafka.prepare?.();
    expect(existsSync(path.join(dataDir, 'meta.properties'))).toBe(true);
    const launch = kafka.launch?.();
    if (!launch) throw new Error('the Kafka component has no launch options');
    spawnDaemon({ ...launch, pidFile: path.join(ctx.paths.runDir, 'kafka.pid') });
    // The moment the stack would start the services: the broker answers and has a controller.
    await waitUntil(async () => ((await kafka.healthy()) ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: 'the fresh broker to answer',
    });

    const common = { KAFKA_BROKERS: brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' };
    const booted = await Promise.allSettled([
      startServiceProcess('inventory', 'apps/inventory/src/main.ts', {
        ...common,
        INVENTORY_DATABASE_URL: requireEnv('INVENTORY_DATABASE_URL'),
        INVENTORY_PORT: '0',
      }),
      startServiceProcess('payment', 'apps/payment/src/main.ts', {
        ...common,
        PAYMENT_DATABASE_URL: requireEnv('PAYMENT_DATABASE_URL'),
        PAYMENT_PORT: '0',
      }),
      startServiceProcess('order', 'apps/order/src/main.ts', {
        ...common,
        ORDER_DATABASE_URL: requireEnv('ORDER_DATABASE_URL'),
        ORDER_PORT: '0',
      }),
    ]);
    for (const result of booted) if (result.status === 'fulfilled') services.push(result.value);
    const failures = booted.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
    expect(failures).toEqual([]);

    for (const service of services) {
      const ready = await fetch(`${service.url}/health/ready`);
      expect({ service: service.name, status: ready.status }).toEqual({ service: service.name, status: 200 });
    }

    const admin = new Kafka({
      clientId: 'cold-boot-check',
      brokers: [brokers],
      logLevel: logLevel.NOTHING,
    }).admin();
    await admin.connect();
    try {
      const wanted = [
        ...Object.values(TOPICS),
        ...['inventory-service', 'payment-service', 'order-service'].flatMap((group) => [
          retryTopic(group),
          deadLetterTopic(group),
        ]),
      ];
      const { topics } = await admin.fetchTopicMetadata({ topics: wanted });
      expect(topics.map((t) => t.name).sort()).toEqual([...wanted].sort());
      const leaderless = topics.flatMap((t) =>
        t.partitions.filter((p) => p.leader < 0).map((p) => `${t.name}[${p.partitionId}]`),
      );
      expect(leaderless).toEqual([]);
    } finally {
      await admin.disconnect();
    }
  }, 240_000);
});
