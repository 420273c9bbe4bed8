import 'reflect-metadata';
import {
  ConsoleLogger,
  Module,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
  type Provider,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ConsulRegistration, consulClient } from '@saga-lab/discovery';
import {
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
} from '@saga-lab/messaging';
import {
  HEALTH_CHECKS,
  HealthController,
  HttpErrorFilter,
  MetricsController,
  Readiness,
  ServiceMetrics,
  edgeServerOptions,
} from '@saga-lab/observability';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { DataSource, type MigrationInterface } from 'typeorm';

export interface ServiceSpec {
  /** Logical name: Consul service name, Kafka client id, log context. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly databaseUrl: string;
  readonly dbPoolSize: number;
  readonly migrations: readonly (new () => MigrationInterface)[];
  readonly kafkaBrokers: readonly string[];
  readonly consumerGroup: string;
  readonly consumerConcurrency: number;
  /** How long boot waits for its topics to exist with a leader for every partition (cold broker). */
  readonly kafkaReadyTimeoutMs?: number;
  readonly consulAddress?: string;
  readonly controllers: readonly Type<unknown>[];
  /** Extra providers, built once the database and Kafka are connected. */
  providers?(deps: ServiceDeps): Provider[];
  /** Runs after migrations, before traffic (seed data). */
  prepare?(deps: ServiceDeps): Promise<void>;
  /** Background loops started with the service and stopped before it closes (e.g. the saga reaper). */
  background?(deps: ServiceDeps): { stop(): Promise<void> };
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

function appModule(
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

/**
 * Boots one service the same way every time: its own database (migrations, outbox and inbox tables),
 * the contract topics and its consumer group's retry/DLQ topics, the outbox relay, NestJS on Fastify
 * for HTTP with the one error format, the Kafka transport for its @EventPattern handlers, and Consul
 * registration with an HTTP readiness check.
 */
export async function bootService(
  spec: ServiceSpec,
  logger: LoggerService = new ConsoleLogger(spec.name, { json: true }),
): Promise<RunningService> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: spec.databaseUrl,
    entities: messagingEntities,
    migrations: [...messagingMigrations, ...spec.migrations],
    poolSize: spec.dbPoolSize,
    extra: { connectionTimeoutMillis: 5_000 },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });

  const kafka = new Kafka({ clientId: spec.name, brokers: [...spec.kafkaBrokers], logLevel: logLevel.WARN });
  const admin = kafka.admin();
  await admin.connect();
  try {
    // Cold start: topics are created once from the contracts, then every partition must have a leader.
    await ensureTopics(admin, [...contractTopics(), ...groupTopics(spec.consumerGroup)], {
      timeoutMs: spec.kafkaReadyTimeoutMs,
    });
  } catch (error) {
    await admin.disconnect().catch(() => undefined);
    await dataSource.destroy().catch(() => undefined);
    if (!(error instanceof TopicsNotReady)) throw error;
    throw new Error(
      `its Kafka topics are not usable at ${spec.kafkaBrokers.join(',')}: ${error.message} ` +
        'Check the broker (npm run stack -- status; npm run stack -- logs kafka).',
    );
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const deps: ServiceDeps = { dataSource, kafka, producer, logger };
  await spec.prepare?.(deps);

  // Failure-lab knobs (environment): publish every outbox message twice; or leave the relay off, so
  // committed messages wait in the outbox (as after a crash between commit and publish).
  const metrics = new ServiceMetrics(spec.name);
  const relay = new OutboxRelay(dataSource, producer, {
    onError: (error) => logger.error(`outbox relay: ${String(error)}`),
    onPublished: (lagsMs) => lagsMs.forEach((ms) => metrics.outboxPublishLag.observe(ms / 1000)),
    duplicateDelivery: process.env['SAGA_LAB_DUPLICATE_DELIVERY'] === 'true',
  });
  const relayOn = process.env['SAGA_LAB_OUTBOX_RELAY'] !== 'off';
  const readiness = new Readiness();
  const app = await NestFactory.create(
    appModule(spec, deps, admin, readiness, metrics),
    new FastifyAdapter({ bodyLimit: 64 * 1024, ...edgeServerOptions() }),
    { logger },
  );
  app.useGlobalFilters(
    new HttpErrorFilter((message, error) =>
      logger.error(`${message}: ${error instanceof Error ? error.stack : String(error)}`),
    ),
  );
  const transport = new KafkaTransport({
    kafka,
    producer,
    groupId: spec.consumerGroup,
    concurrency: spec.consumerConcurrency,
    onFailure: ({ delivery, error, routedTo }) => {
      metrics.messagesFailed.inc({ topic: delivery.originalTopic, routed_to: routedTo });
      logger.warn(
        `${delivery.topic}@${delivery.partition}:${delivery.offset} → ${routedTo}: ${String(error)}`,
      );
    },
  });
  const microservice = app.connectMicroservice({ strategy: transport }, { inheritAppConfig: false });
  microservice.useGlobalFilters(new RethrowToTransport());
  if (relayOn) relay.start();
  await app.startAllMicroservices();
  // Background work (the saga reaper) waits until this instance consumes: after a restart, replies that
  // arrived meanwhile are read before any deadline is judged overdue.
  let background: { stop(): Promise<void> } | undefined;
  let closing = false;
  const joined = transport.unwrap<MessageConsumer>().joined.then(() => {
    if (!closing) background = spec.background?.(deps);
  });
  await app.listen(spec.port, spec.host);
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://${spec.host}:${port}`;

  const registration = spec.consulAddress
    ? new ConsulRegistration(consulClient(spec.consulAddress), {
        name: spec.name,
        id: `${spec.name}-${spec.host}-${port}`,
        address: spec.host,
        port,
        healthUrl: `${url}/health/ready`,
      })
    : undefined;
  await registration?.register();
  logger.log(`${spec.name} listening on ${url}`);

  return {
    app,
    url,
    deps,
    async close() {
      readiness.accepting = false;
      closing = true;
      void joined; // never awaited: an instance that never joined its group must still close
      await registration
        ?.deregister()
        .catch((error: unknown) => logger.warn(`consul deregister: ${String(error)}`));
      await app.close(); // the consumer stops after the message in flight committed, then HTTP
      await background?.stop();
      await relay.stop();
      if (relayOn) await relay.publishBatch().catch(() => 0); // flush what the last handlers staged
      await producer.disconnect();
      await admin.disconnect();
      await dataSource.destroy();
    },
  };
}

/** The process entry point: boot, then drain on SIGTERM/SIGINT and exit. */
export function runMain(name: string, boot: () => Promise<Pick<RunningService, 'close'>>): void {
  boot().then(
    (service) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        process.stdout.write(
          `${JSON.stringify({ level: 'log', context: name, message: `${signal}: draining` })}\n`,
        );
        service.close().then(
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
