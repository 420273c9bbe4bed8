import type { LoggerService } from '@nestjs/common';
import { enqueue } from '@saga-lab/messaging';
import { bootService, type RunningService } from '@saga-lab/runtime';
import { SagaInstances1732400000000, SagaStore, type CommandSink } from '@saga-lab/saga';
import { setTimeout as sleep } from 'node:timers/promises';
import { INVENTORY_URL, OrdersController } from './api/orders.controller';
import type { OrderConfig } from './config';
import { settleOrder } from './domain/orders';
import { Orders1732600000000 } from './infra/migrations/1732600000000-orders';
import { OrdersPageIndexes1732700000000 } from './infra/migrations/1732700000000-orders-page-indexes';
import { CONSUMER_GROUP, PLACE_ORDER_SAGA, SagaRepliesController } from './messaging/saga-replies.controller';
import { placeOrderSaga, type PlaceOrderData } from './saga/place-order.saga';

export type { RunningService };

/** Saga commands leave through the outbox, in the transaction of the transition that decided them. */
const viaOutbox: CommandSink = async (manager, command, meta) => {
  await enqueue(manager, command.definition, command.payload as never, meta);
};

export function startOrderService(config: OrderConfig, logger?: LoggerService): Promise<RunningService> {
  const saga = new SagaStore<PlaceOrderData>(
    placeOrderSaga({
      reserveStockMs: config.ORDER_RESERVE_TIMEOUT_MS,
      authorizePaymentMs: config.ORDER_AUTHORIZE_TIMEOUT_MS,
      capturePaymentMs: config.ORDER_CAPTURE_TIMEOUT_MS,
    }),
    viaOutbox,
    undefined,
    settleOrder,
  );
  return bootService(
    {
      name: 'order',
      host: config.ORDER_HOST,
      port: config.ORDER_PORT,
      databaseUrl: config.ORDER_DATABASE_URL,
      dbPoolSize: config.ORDER_DB_POOL,
      migrations: [SagaInstances1732400000000, Orders1732600000000, OrdersPageIndexes1732700000000],
      kafkaBrokers: config.KAFKA_BROKERS.split(','),
      consumerGroup: CONSUMER_GROUP,
      consumerConcurrency: config.ORDER_CONSUMER_CONCURRENCY,
      ...(config.CONSUL_HTTP_ADDR ? { consulAddress: config.CONSUL_HTTP_ADDR } : {}),
      controllers: [OrdersController, SagaRepliesController],
      providers: () => [
        { provide: PLACE_ORDER_SAGA, useValue: saga },
        { provide: INVENTORY_URL, useValue: config.INVENTORY_URL.replace(/\/+$/, '') },
      ],
      // Deadline reaper: overdue sagas are moved to compensation (and compensations re-sent) every interval.
      background: ({ dataSource, logger: log }) => {
        let running = true;
        const loop = (async () => {
          while (running) {
            try {
              await saga.reapOverdue(dataSource);
            } catch (error) {
              log.warn(`saga reaper: ${String(error)}`);
            }
            await sleep(config.ORDER_REAPER_INTERVAL_MS);
          }
        })();
        return {
          async stop() {
            running = false;
            await loop;
          },
        };
      },
    },
    logger,
  );
}
