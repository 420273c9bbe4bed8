import 'reflect-metadata';
import {
  ConsoleLogger,
  Module,
  type DynamicModule,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { ConsulRegistration, consulClient } from '@saga-lab/discovery';
import {
  KafkaTransport,
  OutboxRelay,
  RethrowToTransport,
  ensureGroupTopics,
  ensureTopics,
  messagingEntities,
  messagingMigrations,
} from '@saga-lab/messaging';
import { HEALTH_CHECKS, HealthController, Readiness } from '@saga-lab/observability';
import { TOPICS } from '@saga-lab/contracts';
import { Kafka, logLevel, type Admin, type Producer } from 'kafkajs';
import { DataSource } from 'typeorm';
import { CatalogController } from './api/catalog.controller';
import type { InventoryConfig } from './config';
import { Inventory1732500000000 } from './infra/migrations/1732500000000-inventory';
import { seedCatalog } from './infra/seed';
import { CONSUMER_GROUP, StockCommandsController } from './messaging/stock-commands.controller';

export interface RunningService {
  readonly app: INestApplication;
  readonly url: string;
  /** Graceful stop: not ready → deregister → stop consuming (in-flight work commits) → drain the outbox → close. */
  close(): Promise<void>;
}

function appModule(dataSource: DataSource, admin: Admin, readiness: Readiness): DynamicModule {
  @Module({})
  class InventoryModule {}
  return {
    module: InventoryModule,
    controllers: [CatalogController, StockCommandsController, HealthController],
    providers: [
      { provide: DataSource, useValue: dataSource },
      { provide: Readiness, useValue: readiness },
      {
        provide: HEALTH_CHECKS,
        useValue: { database: () => dataSource.query('SELECT 1'), kafka: () => admin.describeCluster() },
      },
    ],
  };
}

export async function startInventoryService(
  config: InventoryConfig,
  logger: LoggerService = new ConsoleLogger('inventory', { json: true }),
): Promise<RunningService> {
  const dataSource = new DataSource({
    type: 'postgres',
    url: config.INVENTORY_DATABASE_URL,
    entities: messagingEntities,
    migrations: [...messagingMigrations, Inventory1732500000000],
    poolSize: config.INVENTORY_DB_POOL,
    extra: { connectionTimeoutMillis: 5_000 },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  if (config.INVENTORY_SEED === 'true') await seedCatalog(dataSource);

  const kafka = new Kafka({
    clientId: 'inventory',
    brokers: config.KAFKA_BROKERS.split(','),
    logLevel: logLevel.WARN,
  });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin);
  await ensureGroupTopics(admin, CONSUMER_GROUP);
  const producer: Producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  const relay = new OutboxRelay(dataSource, producer, {
    onError: (error) => logger.error(`outbox relay: ${String(error)}`),
  });

  const readiness = new Readiness();
  const app = await NestFactory.create(appModule(dataSource, admin, readiness), new FastifyAdapter(), {
    logger,
  });
  const microservice = app.connectMicroservice(
    {
      strategy: new KafkaTransport({
        kafka,
        producer,
        groupId: CONSUMER_GROUP,
        concurrency: config.INVENTORY_CONSUMER_CONCURRENCY,
        onFailure: ({ delivery, error, routedTo }) =>
          logger.warn(`${delivery.topic}@${delivery.offset} → ${routedTo}: ${String(error)}`),
      }),
    },
    { inheritAppConfig: false },
  );
  microservice.useGlobalFilters(new RethrowToTransport());
  relay.start();
  await app.startAllMicroservices();
  await app.listen(config.INVENTORY_PORT, config.INVENTORY_HOST);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${config.INVENTORY_HOST}:${address.port}`;

  const registration = config.CONSUL_HTTP_ADDR
    ? new ConsulRegistration(consulClient(config.CONSUL_HTTP_ADDR), {
        name: 'inventory',
        id: `inventory-${config.INVENTORY_HOST}-${address.port}`,
        address: config.INVENTORY_HOST,
        port: address.port,
        healthUrl: `${url}/health/ready`,
        tags: [`topics:${TOPICS.inventoryCommands}`],
      })
    : undefined;
  await registration?.register();
  logger.log(`inventory listening on ${url}`);

  return {
    app,
    url,
    async close() {
      readiness.accepting = false;
      await registration
        ?.deregister()
        .catch((error: unknown) => logger.warn(`consul deregister: ${String(error)}`));
      await app.close(); // stops the consumer after the message in flight committed, then HTTP
      await relay.stop();
      await relay.publishBatch().catch(() => 0); // flush what the last handlers staged
      await producer.disconnect();
      await admin.disconnect();
      await dataSource.destroy();
    },
  };
}
