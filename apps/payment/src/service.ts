import type { LoggerService } from '@nestjs/common';
import {
  bootService,
  labSwitches,
  relayKnobs,
  serviceLogger,
  type RunningService,
  type ServiceDeps,
} from '@saga-lab/runtime';
import { DataSource } from 'typeorm';
import { PAYMENT_HTTP_STATUSES } from './api/http-statuses';
import { PaymentsController } from './api/payments.controller';
import { ProviderFaultsController } from './api/provider-faults.controller';
import type { PaymentConfig } from './config';
import { providerKeys } from './domain/provider-keys';
import {
  PaymentReconciler,
  registerReconciliationMetrics,
  type ReconciliationMetrics,
} from './domain/reconciliation';
import { Payment1732600000000 } from './infra/migrations/1732600000000-payment';
import {
  CONSUMER_GROUP,
  PAYMENT_PROVIDER,
  PROVIDER_KEYS,
  RECONCILE_WITH_PROVIDER,
  PaymentCommandsController,
} from './messaging/payment-commands.controller';
import { ProviderSimulator } from './provider/provider-simulator';
import pg from 'pg';

export type { RunningService };

export interface RunningPaymentService extends RunningService {
  readonly provider: ProviderSimulator;
}

export async function startPaymentService(
  config: PaymentConfig,
  logger: LoggerService = serviceLogger('payment', config.LOG_LEVEL),
): Promise<RunningPaymentService> {
  const lab = labSwitches('payment', config);
  // The failure lab's switches: each safeguard off breaks the service on purpose, and says so at boot.
  const keys = providerKeys(lab.on('provider-idempotency'));
  if (!keys.stable)
    logger.warn(
      `safeguard provider-idempotency is OFF (lab run ${lab.labRun}): authorize and capture send the provider a fresh idempotency key per attempt`,
    );
  const reconcile = lab.on('reconciliation');
  if (!reconcile)
    logger.warn(
      `safeguard reconciliation is OFF (lab run ${lab.labRun}): nothing gives back what the provider holds for no live order, and compensation voids without asking the provider whether it captured`,
    );
  // The simulator stands for an external provider: its ledger uses connections of its own, so its
  // effects survive a rollback of the service's transaction, as a real provider's would.
  const ledger = new DataSource({
    type: 'postgres',
    driver: pg, // see openDatabase in @saga-lab/runtime
    url: config.PAYMENT_DATABASE_URL,
    poolSize: 4,
  });
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
  // Registered by the metrics hook, which runs before the background work starts.
  let reconciliationMetrics: ReconciliationMetrics | undefined;
  let service: RunningService;
  try {
    service = await bootService(
      {
        name: 'payment',
        host: config.PAYMENT_HOST,
        advertiseHost: config.PAYMENT_ADVERTISE_HOST,
        port: config.PAYMENT_PORT,
        databaseUrl: config.PAYMENT_DATABASE_URL,
        dbPoolSize: config.PAYMENT_DB_POOL,
        migrations: [Payment1732600000000],
        kafkaBrokers: config.KAFKA_BROKERS,
        relay: relayKnobs(config),
        lab,
        consumerGroup: CONSUMER_GROUP,
        consumerConcurrency: config.PAYMENT_CONSUMER_CONCURRENCY,
        ...(config.CONSUL_HTTP_ADDR ? { consulAddress: config.CONSUL_HTTP_ADDR } : {}),
        controllers: [PaymentsController, PaymentCommandsController, ProviderFaultsController],
        httpStatuses: PAYMENT_HTTP_STATUSES,
        providers: () => [
          { provide: PAYMENT_PROVIDER, useValue: provider },
          { provide: PROVIDER_KEYS, useValue: keys },
          { provide: RECONCILE_WITH_PROVIDER, useValue: reconcile },
        ],
        metrics: (metrics) => {
          reconciliationMetrics = registerReconciliationMetrics(metrics.registry);
        },
        // Reconciliation: voids and refunds what the provider holds for no live order, every interval.
        // A lab run without it (safeguard `reconciliation` off) shows such holds staying for good.
        ...(reconcile
          ? {
              background: ({ dataSource, logger: log }: ServiceDeps) =>
                new PaymentReconciler(dataSource, provider, {
                  intervalMs: config.PAYMENT_RECONCILE_INTERVAL_MS,
                  graceMs: config.PAYMENT_RECONCILE_GRACE_MS,
                  orphanGraceMs: config.PAYMENT_RECONCILE_ORPHAN_GRACE_MS,
                  logger: log,
                  ...(reconciliationMetrics ? { metrics: reconciliationMetrics } : {}),
                }),
            }
          : {}),
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
