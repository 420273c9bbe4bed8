import type { LoggerService } from '@nestjs/common';
import { bootService, labSwitches, relayKnobs, serviceLogger, type RunningService } from '@saga-lab/runtime';
import { CatalogController } from './api/catalog.controller';
import { INVENTORY_HTTP_STATUSES } from './api/http-statuses';
import { ReservationsController } from './api/reservations.controller';
import type { InventoryConfig } from './config';
import { Inventory1732500000000 } from './infra/migrations/1732500000000-inventory';
import { seedCatalog } from './infra/seed';
import { CONSUMER_GROUP, StockCommandsController } from './messaging/stock-commands.controller';

export type { RunningService };

export async function startInventoryService(
  config: InventoryConfig,
  logger: LoggerService = serviceLogger('inventory', config.LOG_LEVEL),
): Promise<RunningService> {
  return bootService(
    {
      name: 'inventory',
      host: config.INVENTORY_HOST,
      advertiseHost: config.INVENTORY_ADVERTISE_HOST,
      port: config.INVENTORY_PORT,
      databaseUrl: config.INVENTORY_DATABASE_URL,
      dbPoolSize: config.INVENTORY_DB_POOL,
      migrations: [Inventory1732500000000],
      kafkaBrokers: config.KAFKA_BROKERS,
      relay: relayKnobs(config),
      lab: labSwitches('inventory', config),
      consumerGroup: CONSUMER_GROUP,
      consumerConcurrency: config.INVENTORY_CONSUMER_CONCURRENCY,
      ...(config.CONSUL_HTTP_ADDR ? { consulAddress: config.CONSUL_HTTP_ADDR } : {}),
      controllers: [CatalogController, ReservationsController, StockCommandsController],
      httpStatuses: INVENTORY_HTTP_STATUSES,
      prepare: async ({ dataSource }) => {
        if (config.INVENTORY_SEED === 'true') await seedCatalog(dataSource);
      },
    },
    logger,
  );
}
