import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { serveControllers } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { paymentSchema } from './payment-schema';
import { PaymentsController } from '../src/api/payments.controller';
import { authorizePayment, capturePayment, voidOrRefundPayment } from '../src/domain/payments';
import { ProviderSimulator } from '../src/provider/provider-simulator';
import { seededRandom } from '../src/provider/random';
import { PAYMENT_HTTP_STATUSES } from '../src/api/http-statuses';

/**
 * GET /payments/:orderId, the read the gateway calls, against real PostgreSQL in a schema of its own. Only the
 * controller is mounted (no Kafka consumer, no Consul registration), and the payments are made the way the
 * saga makes them, through the domain functions and the provider simulator.
 */
describe('payment internal API (real PostgreSQL)', () => {
  const { schema, connect } = paymentSchema('pay_api');
  const dataSource = connect(5);
  const ledger = connect(2); // the provider's own connections, as in the service
  const provider = new ProviderSimulator(ledger, { timeoutMs: 1_000, random: seededRandom(3) });
  let app: INestApplication;
  let base: string;

  const get = async (orderId: string): Promise<{ status: number; body: unknown }> => {
    const response = await fetch(`${base}/payments/${orderId}`);
    return { status: response.status, body: await response.json() };
  };
  const authorize = (orderId: string, amountMinor: number) =>
    dataSource.transaction((m) =>
      authorizePayment(m, provider, { orderId, customerId: 'c-1', amount: { amountMinor, currency: 'EUR' } }),
    );

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    await ledger.initialize();
    ({ app, url: base } = await serveControllers(
      [PaymentsController],
      [{ provide: DataSource, useValue: dataSource }],
      PAYMENT_HTTP_STATUSES,
    ));
  });
  afterAll(async () => {
    await app?.close();
    await provider.drain();
    await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
    await ledger.destroy();
    await dataSource.destroy();
  });

  it("shows an order's payment as the saga moves it: authorized, then captured", async () => {
    const orderId = randomUUID();
    await authorize(orderId, 4_250);
    const authorized = await get(orderId);
    expect(authorized).toEqual({
      status: 200,
      body: {
        orderId,
        paymentId: expect.any(String),
        status: 'AUTHORIZED',
        amount: { amountMinor: 4_250, currency: 'EUR' },
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        updatedAt: expect.any(String),
      },
    });
    await dataSource.transaction((m) => capturePayment(m, provider, orderId));
    await expect(get(orderId)).resolves.toMatchObject({
      status: 200,
      body: { status: 'CAPTURED', amount: { amountMinor: 4_250 } },
    });
  });

  it('shows a declined payment, and a void that came first as a tombstone without an amount', async () => {
    const declined = randomUUID();
    provider.setFaults({ declineRate: 1 });
    try {
      await authorize(declined, 999);
    } finally {
      provider.setFaults({ declineRate: 0 });
    }
    await expect(get(declined)).resolves.toMatchObject({
      status: 200,
      body: { status: 'DECLINED', amount: { amountMinor: 999, currency: 'EUR' } },
    });

    const voidedFirst = randomUUID();
    await dataSource.transaction((m) => voidOrRefundPayment(m, provider, voidedFirst));
    await expect(get(voidedFirst)).resolves.toMatchObject({
      status: 200,
      body: { orderId: voidedFirst, status: 'VOIDED', amount: null },
    });
  });

  it('answers 404 PAYMENT_NOT_FOUND for an order without a payment or an id that is not a uuid', async () => {
    for (const id of [randomUUID(), 'not-a-uuid', '%00', randomUUID().toUpperCase().replace(/-/g, '')])
      await expect(get(id)).resolves.toEqual({
        status: 404,
        body: {
          error: {
            code: 'PAYMENT_NOT_FOUND',
            message: expect.any(String),
            correlationId: expect.any(String),
          },
        },
      });
  });
});
