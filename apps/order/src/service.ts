import type { LoggerService } from '@nestjs/common';
import {
  ConsulDirectory,
  ServiceClient,
  StaticDirectory,
  consulClient,
  type ServiceDirectory,
} from '@saga-lab/discovery';
import { enqueue } from '@saga-lab/messaging';
import { DependencyPolicy } from '@saga-lab/resilience';
import {
  bootService,
  labSwitches,
  relayKnobs,
  serviceLogger,
  type RunningService,
  type ServiceDeps,
} from '@saga-lab/runtime';
import {
  SagaInstances1732400000000,
  SagaReaper,
  SagaStore,
  SagaTraceparent1732900000000,
  registerSagaGauges,
  systemClock,
  type Clock,
  type CommandSink,
} from '@saga-lab/saga';
import { ORDER_HTTP_STATUSES } from './api/http-statuses';
import { OrdersController } from './api/orders.controller';
import type { OrderConfig } from './config';
import { settleOrder } from './domain/orders';
import { Orders1732600000000 } from './infra/migrations/1732600000000-orders';
import { OrdersPageIndexes1732700000000 } from './infra/migrations/1732700000000-orders-page-indexes';
import { OrdersTrace1732950000000 } from './infra/migrations/1732950000000-orders-trace';
import { CONSUMER_GROUP, SagaRepliesController } from './messaging/saga-replies.controller';
import { placeOrderSaga, type PlaceOrderData } from './saga/place-order.saga';
import { Catalog } from './infra/catalog';
import { ADMISSION, CATALOG, PLACE_ORDER_SAGA } from './tokens';
import { Admission } from './api/admission';
import { Counter } from 'prom-client';

export type { RunningService };

/** Saga commands leave through the outbox, in the transaction of the transition that decided them. */
const viaOutbox: CommandSink = (manager, command, meta) =>
  command.send(async (definition, payload) => {
    await enqueue(manager, definition, payload, meta);
  });

/** Inventory, as the order service calls it: through discovery (Consul when configured), with a breaker. */
function inventoryClient(
  config: OrderConfig,
  logger: LoggerService,
): { client: ServiceClient; directory: ServiceDirectory } {
  const directory =
    config.CONSUL_HTTP_ADDR && config.ORDER_INVENTORY_DISCOVERY === 'consul'
      ? new ConsulDirectory(consulClient(config.CONSUL_HTTP_ADDR), ['inventory'], (service, error) =>
          logger.warn(`consul watch ${service}: ${String(error)}`),
        )
      : new StaticDirectory({ inventory: config.INVENTORY_URL });
  const policy = new DependencyPolicy('inventory', {
    failureThreshold: 5,
    halfOpenAfterMs: 5_000,
    maxAttempts: 3,
    initialBackoffMs: 25,
    maxBackoffMs: 250,
    callTimeoutMs: 1_000,
  });
  return { client: new ServiceClient('inventory', directory, policy), directory };
}

/** The system clock shifted by `skewMs` (the failure lab's clock skew; 0 is the system clock itself). */
export const skewedClock = (skewMs: number): Clock =>
  skewMs === 0 ? systemClock : { now: () => new Date(Date.now() + skewMs), random: systemClock.random };

export async function startOrderService(
  config: OrderConfig,
  logger: LoggerService = serviceLogger('order', config.LOG_LEVEL),
): Promise<RunningService> {
  const lab = labSwitches('order', config);
  const relay = relayKnobs(config);
  const inventory = inventoryClient(config, logger);
  if (inventory.directory instanceof ConsulDirectory) await inventory.directory.ready();
  const saga = new SagaStore<PlaceOrderData>(
    placeOrderSaga({
      reserveStockMs: config.ORDER_RESERVE_TIMEOUT_MS,
      authorizePaymentMs: config.ORDER_AUTHORIZE_TIMEOUT_MS,
      capturePaymentMs: config.ORDER_CAPTURE_TIMEOUT_MS,
    }),
    // The order's status moves with its saga, in the same transaction. Deadlines are set and judged
    // overdue (by the reaper, through the store) on this clock: skewed in a lab run, to show what breaks.
    { send: viaOutbox, onTransition: settleOrder, clock: skewedClock(lab.clockSkewMs) },
  );
  const shed = new Counter({
    name: 'saga_lab_orders_shed_total',
    help: 'New orders refused by admission control (503 OVERLOADED): too many sagas in flight',
    registers: [],
  });
  return bootService(
    {
      name: 'order',
      host: config.ORDER_HOST,
      advertiseHost: config.ORDER_ADVERTISE_HOST,
      port: config.ORDER_PORT,
      databaseUrl: config.ORDER_DATABASE_URL,
      dbPoolSize: config.ORDER_DB_POOL,
      migrations: [
        SagaInstances1732400000000,
        Orders1732600000000,
        OrdersPageIndexes1732700000000,
        SagaTraceparent1732900000000,
        OrdersTrace1732950000000,
      ],
      kafkaBrokers: config.KAFKA_BROKERS,
      relay,
      lab,
      consumerGroup: CONSUMER_GROUP,
      consumerConcurrency: config.ORDER_CONSUMER_CONCURRENCY,
      consulAddress: config.CONSUL_HTTP_ADDR,
      controllers: [OrdersController, SagaRepliesController],
      httpStatuses: ORDER_HTTP_STATUSES,
      providers: ({ dataSource }) => [
        { provide: PLACE_ORDER_SAGA, useValue: saga },
        {
          provide: ADMISSION,
          useValue: new Admission(
            dataSource,
            {
              maxInFlight: config.ORDER_ADMISSION_MAX_IN_FLIGHT,
              refreshMs: config.ORDER_ADMISSION_REFRESH_MS,
            },
            () => shed.inc(),
          ),
        },
        { provide: CATALOG, useValue: new Catalog(inventory.client) },
      ],
      // Deadline reaper: overdue sagas are moved to compensation (and compensations re-sent) every interval.
      // A lab run without it (safeguard `reaper` off) shows sagas stuck for good once a reply is lost.
      ...(lab.on('reaper')
        ? {
            background: ({ dataSource, logger: log }: ServiceDeps) =>
              new SagaReaper(saga, dataSource, {
                intervalMs: config.ORDER_REAPER_INTERVAL_MS,
                onError: (error) => log.warn(`saga reaper: ${String(error)}`),
              }),
          }
        : {}),
      metrics: (metrics, { dataSource }) => {
        registerSagaGauges(metrics.registry, dataSource, 'place-order');
        metrics.registry.registerMetric(shed);
      },
      dispose: () => inventory.directory.close(),
    },
    logger,
  );
}
