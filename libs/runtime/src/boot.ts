import 'reflect-metadata';
import {
  Module,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type Provider,
  type Type,
} from '@nestjs/common';
import {
  DirectPublish,
  KafkaTransport,
  MessageConsumer,
  OutboxRelay,
  RethrowToTransport,
  TopicsNotReady,
  contractTopics,
  ensureTopics,
  groupTopics,
  messagingEntities,
  messagingMigrations,
  transactionalInbox,
} from '@saga-lab/messaging';
import {
  HEALTH_CHECKS,
  HealthController,
  MetricsController,
  Readiness,
  ServiceMetrics,
  type HttpStatusTable,
} from '@saga-lab/observability';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import pg from 'pg';
import { Gauge } from 'prom-client';
import { DataSource, type MigrationInterface } from 'typeorm';
import { SAFEGUARDS, serviceLogger, type LabSwitches, type Safeguard } from './config';
import { createHttpApp, serveHttp } from './http';
import { registerServiceGauges } from './metrics';

/** A loop that runs beside the consumer (the outbox relay, the saga reaper): started, then stopped on close. */
export interface BackgroundWork {
  start(): void;
  /** Returns once the round in flight committed. */
  stop(): Promise<void>;
}

/** Failure-lab knobs of the outbox relay, read from each service's validated config. */
export interface RelayKnobs {
  /** Off: committed messages wait in the outbox (as after a crash between commit and publish). */
  readonly enabled: boolean;
  /** Publish every outbox message twice; consumers must show no second effect. */
  readonly duplicateDelivery: boolean;
}

export interface ServiceSpec {
  /** Logical name: Consul service name, Kafka client id, log context. */
  readonly name: string;
  readonly host: string;
  /** The address registered in Consul when it differs from `host` (see HttpSpec). */
  readonly advertiseHost?: string | undefined;
  readonly port: number;
  readonly databaseUrl: string;
  readonly dbPoolSize: number;
  readonly migrations: readonly (new () => MigrationInterface)[];
  readonly kafkaBrokers: readonly string[];
  readonly consumerGroup: string;
  readonly consumerConcurrency: number;
  /** How long boot waits for its topics to exist with a leader for every partition (cold broker). */
  readonly kafkaReadyTimeoutMs?: number;
  readonly consulAddress?: string | undefined;
  readonly relay?: RelayKnobs;
  /**
   * The failure lab's switches (`labSwitches(name, config)`): `inbox` off — no de-duplication by message
   * id; `outbox` off — staged messages published directly after the commit (DirectPublish). The service
   * itself reads the rest (the reaper, the clock skew, the provider's safeguards). Default: all on.
   */
  readonly lab?: LabSwitches;
  readonly controllers: readonly Type<unknown>[];
  /** The status each error code of the service's API is answered with. */
  readonly httpStatuses: HttpStatusTable;
  /** Extra providers, built once the database and Kafka are connected. */
  providers?(deps: ServiceDeps): Provider[];
  /** Runs after migrations, before traffic (seed data). */
  prepare?(deps: ServiceDeps): Promise<void>;
  /** Background work started once this instance consumes (e.g. the saga reaper), stopped before it closes. */
  background?(deps: ServiceDeps): BackgroundWork;
  /** Gauges of the service's own (e.g. sagas by state), on its metrics registry. */
  metrics?(metrics: ServiceMetrics, deps: ServiceDeps): void;
  /** Releases what the service opened itself (a discovery watch), last. */
  dispose?(): void | Promise<void>;
}

export interface ServiceDeps {
  readonly dataSource: DataSource;
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly logger: LoggerService;
}

export interface RunningService {
  readonly app: INestApplication;
  readonly url: string;
  readonly deps: ServiceDeps;
  /** Graceful stop: not ready → deregister → stop consuming (in-flight work commits) → drain the outbox → close. */
  close(): Promise<void>;
}

function serviceModule(
  spec: ServiceSpec,
  deps: ServiceDeps,
  admin: Admin,
  readiness: Readiness,
  metrics: ServiceMetrics,
): DynamicModule {
  @Module({})
  class ServiceModule {}
  return {
    module: ServiceModule,
    controllers: [...spec.controllers, HealthController, MetricsController],
    providers: [
      { provide: ServiceMetrics, useValue: metrics },
      { provide: DataSource, useValue: deps.dataSource },
      { provide: Readiness, useValue: readiness },
      {
        provide: HEALTH_CHECKS,
        useValue: { database: () => deps.dataSource.query('SELECT 1'), kafka: () => admin.describeCluster() },
      },
      ...(spec.providers?.(deps) ?? []),
    ],
  };
}

/** The safeguards a lab run switched off, in SAFEGUARDS order. */
export const safeguardsOff = (lab: LabSwitches | undefined): Safeguard[] =>
  lab ? SAFEGUARDS.filter((s) => !lab.on(s)) : [];

/**
 * Makes a lab run impossible to miss: one warning line at boot naming every safeguard switched off (and a
 * skewed clock), and the gauge `saga_lab_safeguard_off{safeguard}` — 1 for each one off, 0 for each one
 * on — that the failure lab's page shows. Nothing at all when every safeguard is on and the clock is true.
 */
export function announceLab(
  name: string,
  lab: LabSwitches | undefined,
  metrics: ServiceMetrics,
  logger: LoggerService,
): void {
  const off = safeguardsOff(lab);
  if (!lab || (off.length === 0 && lab.clockSkewMs === 0)) return;
  const skew = lab.clockSkewMs === 0 ? '' : `; clock skewed by ${lab.clockSkewMs} ms`;
  logger.warn(
    `FAILURE LAB run ${lab.labRun ?? '?'}: ${name} runs with safeguards OFF: ${off.join(', ') || 'none'}${skew} — it breaks on purpose`,
  );
  const gauge = new Gauge({
    name: 'saga_lab_safeguard_off',
    help: 'Safeguards the failure lab switched off in this instance (1 = off)',
    labelNames: ['safeguard'] as const,
    registers: [metrics.registry],
  });
  for (const safeguard of SAFEGUARDS) gauge.set({ safeguard }, off.includes(safeguard) ? 1 : 0);
}

/** The database: connected and migrated (the service's tables, the outbox and the inbox). */
async function openDatabase(spec: ServiceSpec): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    // Given, not looked up: TypeORM would `require('pg')` by a name no bundler can follow, and the
    // services' container images run a bundle with no node_modules beside it.
    driver: pg,
    url: spec.databaseUrl,
    entities: messagingEntities,
    migrations: [...messagingMigrations, ...spec.migrations],
    poolSize: spec.dbPoolSize,
    extra: { connectionTimeoutMillis: 5_000 },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

/** Kafka: the contract topics and the group's retry/DLQ topics, each partition led, before anything else. */
async function connectKafka(spec: ServiceSpec): Promise<{ kafka: Kafka; admin: Admin; producer: Producer }> {
  const kafka = new Kafka({ clientId: spec.name, brokers: [...spec.kafkaBrokers], logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Cold start: topics are created once from the contracts, then every partition must have a leader.
    await ensureTopics(admin, [...contractTopics(), ...groupTopics(spec.consumerGroup)], {
      ...(spec.kafkaReadyTimeoutMs === undefined ? {} : { timeoutMs: spec.kafkaReadyTimeoutMs }),
    });
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    if (!(error instanceof TopicsNotReady)) throw error;
    throw new Error(
      `its Kafka topics are not usable at ${spec.kafkaBrokers.join(',')}: ${error.message} ` +
        'Check the broker (npm run stack -- status; npm run stack -- logs kafka).',
    );
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  return { kafka, admin, producer };
}

/**
 * Service defaults for the saga services: the HTTP part every service has (`createHttpApp`/`serveHttp`)
 * plus the messaging part — its own database with outbox and inbox, its topics, the Kafka transport for
 * its @EventPattern handlers with the transaction and inbox check around each of them, the outbox relay,
 * and background work such as the saga reaper.
 */
export async function bootService(
  spec: ServiceSpec,
  logger: LoggerService = serviceLogger(spec.name),
): Promise<RunningService> {
  const dataSource = await openDatabase(spec);
  const { kafka, admin, producer } = await connectKafka(spec).catch(async (error: unknown) => {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  });
  const deps: ServiceDeps = { dataSource, kafka, producer, logger };
  const lab = spec.lab;
  const metrics = new ServiceMetrics(spec.name);
  announceLab(spec.name, lab, metrics, logger);
  // Outbox off: what handlers and the service stage is published right after each commit, never stored.
  const relayKnobs = spec.relay ?? { enabled: true, duplicateDelivery: false };
  if (lab && !lab.on('outbox'))
    DirectPublish.install(dataSource, producer, {
      holdBack: !relayKnobs.enabled,
      onLost: (error, messages) =>
        logger.error(
          `outbox off: ${messages.length} message(s) lost after their transaction committed (${messages
            .map((m) => `${m.type} ${m.messageId}`)
            .join(', ')}): ${String(error)}`,
        ),
    });
  await spec.prepare?.(deps);

  const relay = new OutboxRelay(dataSource, producer, {
    onError: (error) => logger.error(`outbox relay: ${String(error)}`),
    onPublished: (lagsMs) => lagsMs.forEach((ms) => metrics.outboxPublishLag.observe(ms / 1000)),
    duplicateDelivery: relayKnobs.duplicateDelivery,
  });
  const readiness = new Readiness();
  const http = {
    name: spec.name,
    host: spec.host,
    advertiseHost: spec.advertiseHost,
    port: spec.port,
    bodyLimit: 64 * 1024,
    consulAddress: spec.consulAddress,
    module: serviceModule(spec, deps, admin, readiness, metrics),
    httpStatuses: spec.httpStatuses,
    readiness,
    logger,
  };
  const app = await createHttpApp(http);
  const transport = new KafkaTransport({
    kafka,
    producer,
    groupId: spec.consumerGroup,
    concurrency: spec.consumerConcurrency,
    unitOfWork: transactionalInbox(dataSource, spec.consumerGroup, { deduplicate: lab?.on('inbox') ?? true }),
    onHandled: (envelope, delivery) =>
      logger.debug?.({ msg: `handled ${envelope.type}`, topic: delivery.topic, sagaId: envelope.sagaId }),
    onFailure: ({ delivery, error, routedTo }) => {
      metrics.messagesFailed.inc({ topic: delivery.originalTopic, routed_to: routedTo });
      const where = `${delivery.topic}@${delivery.partition}:${delivery.offset} → ${routedTo}`;
      // A failure sent to the retry topic is expected and handled (a lock lost to another transaction, a
      // participant slow for a moment): worth a line, not an error. A dead letter is an error.
      if (routedTo === 'dlq') logger.error(`${where}: ${String(error)}`);
      else logger.log(`${where}: ${String(error)}`);
    },
  });
  registerServiceGauges(metrics, {
    dataSource,
    admin,
    group: spec.consumerGroup,
    topics: () => transport.unwrap<MessageConsumer | undefined>()?.subscribedTopics ?? [],
  });
  spec.metrics?.(metrics, deps);
  const microservice = app.connectMicroservice({ strategy: transport }, { inheritAppConfig: false });
  microservice.useGlobalFilters(new RethrowToTransport());
  if (relayKnobs.enabled) relay.start();
  await app.startAllMicroservices();
  // Background work (the saga reaper) waits until this instance consumes: after a restart, replies that
  // arrived meanwhile are read before any deadline is judged overdue.
  let background: BackgroundWork | undefined;
  let closing = false;
  const joined = transport.unwrap<MessageConsumer>().joined.then(() => {
    if (closing) return;
    background = spec.background?.(deps);
    background?.start();
  });
  const served = await serveHttp(app, http);
  logger.log(`${spec.name} listening on ${served.url}`);

  return {
    app,
    url: served.url,
    deps,
    async close() {
      closing = true;
      void joined; // never awaited: an instance that never joined its group must still close
      await served.close(); // not ready, deregistered; the consumer stops after the message in flight committed
      await background?.stop();
      await relay.stop();
      if (relayKnobs.enabled) await relay.publishBatch().catch(() => 0); // flush what the last handlers staged
      await producer.disconnect();
      await admin.disconnect();
      await dataSource.destroy();
      await spec.dispose?.();
    },
  };
}

/** The process entry point: boot, then drain on SIGTERM/SIGINT, flush the buffered spans, and exit. */
export function runMain(
  name: string,
  boot: () => Promise<Pick<RunningService, 'close'>>,
  tracing?: { shutdown(): Promise<void> },
): void {
  boot().then(
    (service) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(
          `${JSON.stringify({ level: 'log', context: name, message: `${signal}: draining` })}\n`,
        );
        service
          .close()
          .then(() => tracing?.shutdown())
          .then(
            () => process.exit(0),
            (error: unknown) => {
              process.stderr.write(`${name}: shutdown failed: ${String(error)}\n`);
              process.exit(1);
            },
          );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    },
    (error: unknown) => {
      process.stderr.write(`${name}: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
