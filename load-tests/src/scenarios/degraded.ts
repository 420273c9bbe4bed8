import { LINKS, closeLink, openLink, proxyName, toxiproxy } from '@saga-lab/stack';
import type { Scenario } from '../scenario';
import { call } from '../targets';
import {
  LOAD_PRODUCT,
  PLACE_ORDER,
  RUN_ID,
  UNLIMITED,
  customerSession,
  metricSum,
  sagaOutcome,
  stockLoadProduct,
} from './common';

/** Injected on the payment service's database link (both directions): longer than the gateway's 1 s call timeout. */
const LATENCY_MS = 1_500;

export const degraded: Scenario = {
  name: 'degraded',
  title: 'degraded: the payment service slowed down under load',
  question:
    'With 1.5 s of latency injected between the payment service and its database (Toxiproxy) under load, does the gateway’s breaker open so order reads stay fast (the payment section degraded, not the response), and do the sagas compensate by their deadlines instead of hanging?',
  variants: [
    {
      name: 'payment slow',
      prepare: async (ctx) => {
        const { system } = ctx;
        await system.ensureUp();
        const link = LINKS['payment-postgres'];
        const paymentEnv = await openLink(system, link);
        await system.configureServices({ gateway: UNLIMITED, payment: paymentEnv }, RUN_ID);
        await stockLoadProduct(system);
        const session = await customerSession(ctx);
        const headers = { authorization: `Bearer ${session.token}` };
        // Orders to read back while the payment service is slow, placed before the latency is injected.
        const orders: string[] = [];
        for (let i = 0; i < 10; i++) {
          const { body } = await call('POST', `${session.gatewayUrl}/v1/orders`, {
            headers: { ...headers, 'idempotency-key': `degraded-${Date.now()}-${i}` },
            body: { lines: [{ productId: LOAD_PRODUCT, quantity: 1 }] },
            expect: [202],
          });
          orders.push((body as { orderId: string }).orderId);
        }
        const opened = (): Promise<number> =>
          metricSum(session.gatewayUrl, 'gateway_circuit_breaker_transitions_total', {
            dependency: 'payment',
            to: 'open',
          });
        const openedBefore = await opened();
        const proxy = proxyName(link);
        const toxics = (['upstream', 'downstream'] as const).map((stream) => ({
          name: `load-latency-${stream}`,
          type: 'latency',
          stream,
          attributes: { latency: LATENCY_MS, jitter: 0 },
        }));
        for (const toxic of toxics) await toxiproxy(system, 'POST', `/proxies/${proxy}/toxics`, toxic);
        const gateway = system.pid('gateway');
        return {
          vars: { GATEWAY_URL: session.gatewayUrl, TOKEN: session.token, ORDERS: orders.join(',') },
          processes: gateway === undefined ? ({} as Record<string, number>) : { gateway },
          findings: async (_attacks, measuredFrom) => {
            const opens = (await opened()) - openedBefore;
            for (const toxic of toxics)
              await toxiproxy(system, 'DELETE', `/proxies/${proxy}/toxics/${toxic.name}`);
            // Compensation needs the payment service too: it catches up once the latency is gone.
            const healedAt = Date.now();
            const outcome = await sagaOutcome(system, session.customerId, measuredFrom, 180_000);
            const settledS = Math.round((Date.now() - healedAt) / 1000);
            const failures: string[] = [];
            if (opens === 0) failures.push("the gateway's breaker for the payment service never opened");
            if (outcome.pending > 0)
              failures.push(`${outcome.pending} orders still pending 180 s after the latency was removed`);
            return {
              facts: {
                'latency injected (each way)': `${LATENCY_MS} ms`,
                'breaker opened (times)': opens,
                'orders placed during the fault': outcome.placed,
                confirmed: outcome.confirmed,
                'cancelled by a step deadline (compensated)': outcome.timedOut,
                'completion max (ms)': outcome.completion.maxMs,
                'every order final within (s of the latency removed)': settledS,
              },
              failures,
            };
          },
          cleanup: async () => {
            await system.configureServices({}, RUN_ID);
            await closeLink(system, link);
          },
        };
      },
      attacks: (mode) => {
        const d = mode === 'full' ? 30 : 3;
        return [
          {
            name: 'read orders',
            rate: mode === 'full' ? 200 : 20,
            durationS: d,
            request: {
              method: 'GET',
              url: '{{var:GATEWAY_URL}}/v1/orders/{{pick:ORDERS}}',
              headers: { authorization: 'Bearer {{var:TOKEN}}' },
            },
          },
          {
            name: 'place orders',
            rate: mode === 'full' ? 20 : 5,
            durationS: d,
            request: PLACE_ORDER,
            okStatuses: [202],
          },
        ];
      },
      thresholds: (mode) => [
        { attack: 'read orders', metric: 'errorRate', max: 0.001 },
        // Bounded by the call timeout (1 s) until the breaker opens, then answered without the call.
        ...(mode === 'full' ? [{ attack: 'read orders', metric: 'p99Ms' as const, max: 1_500 }] : []),
      ],
    },
  ],
};
