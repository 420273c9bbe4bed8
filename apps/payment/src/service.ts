import type { LoggerService } from '@nestjs/common';
import { bootService, relayKnobs, serviceLogger, type RunningService } from '@saga-lab/runtime';
import { DataSource } from 'typeorm';
import { PAYMENT_HTTP_STATUSES } from './api/http-statuses';
import { PaymentsController } from './api/payments.controller';
import { ProviderFaultsController } from './api/provider-faults.controller';
import type { PaymentConfig } from './config';
import { Payment1732600000000 } from './infra/migrations/1732600000000-payment';
import {
  CONSUMER_GROUP,
  PAYMENT_PROVIDER,
  PaymentCommandsController,
} from './messaging/payment-commands.controller';
import { ProviderSimulator } from './provider/provider-simulator';

export type { RunningService };

export interface RunningPaymentService extends RunningService {
  readonly provider: ProviderSimulator;
}

export async function startPaymentService(
  config: PaymentConfig,
  logger: LoggerService = serviceLogger('payment', config.LOG_LEVEL),
): Promise<RunningPaymentService> {
  // The simulator stands for an external provider: its ledger uses connections of its own, so its
  // effects survive a rollback of the service's transaction, as a real provider's would.
  const ledger = new DataSource({ type: 'postgres', url: config.PAYMENT_DATABASE_URL, poolSize: 4 });
  await ledger.initialize();
  const provider = new ProviderSimulator(ledger, {
    timeoutMs: config.PROVIDER_TIMEOUT_MS,
    faults: {
      declineRate: config.PROVIDER_DECLINE_RATE,
      latencyMs: config.PROVIDER_LATENCY_MS,
      timeoutRate: config.PROVIDER_TIMEOUT_RATE,
      lostResponseRate: config.PROVIDER_LOST_RESPONSE_RATE,
    },
  });
  let service: RunningService;
  try {
    service = await bootService(
      {
        name: 'payment',
        host: config.PAYMENT_HOST,
        port: config.PAYMENT_PORT,
        databaseUrl: config.PAYMENT_DATABASE_URL,
        dbPoolSize: config.PAYMENT_DB_POOL,
        migrations: [Payment1732600000000],
        kafkaBrokers: config.KAFKA_BROKERS,
        relay: relayKnobs(config),
        consumerGroup: CONSUMER_GROUP,
        consumerConcurrency: config.PAYMENT_CONSUMER_CONCURRENCY,
        ...(config.CONSUL_HTTP_ADDR ? { consulAddress: config.CONSUL_HTTP_ADDR } : {}),
        controllers: [PaymentsController, PaymentCommandsController, ProviderFaultsController],
        httpStatuses: PAYMENT_HTTP_STATUSES,
        providers: () => [{ provide: PAYMENT_PROVIDER, useValue: provider }],
      },
      logger,
    );
  } catch (error) {
    await ledger.destroy();
    throw error;
  }
  return {
    ...service,
    provider,
    async close() {
      await service.close();
      await provider.drain();
      await ledger.destroy();
    },
  };
}
