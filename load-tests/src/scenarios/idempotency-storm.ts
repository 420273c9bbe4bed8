import { randomUUID } from 'node:crypto';
import type { Scenario } from '../scenario';
import { PLACE_ORDER, UNLIMITED, customerSession, defaults, gatewayWith, stockLoadProduct } from './common';

/** 200 keys, each sent many times over the attack (clients retrying the same order). */
const KEYS = 200;

export const idempotencyStorm: Scenario = {
  name: 'idempotency-storm',
  title: 'idempotency-storm: retries with the same keys under load',
  question:
    'When clients retry the same order many times at once (the same Idempotency-Key, concurrently and after the first answer), does each key make exactly one order?',
  variants: [
    {
      name: 'same keys, repeated',
      prepare: async (ctx) => {
        const gateway = await gatewayWith(ctx.system, UNLIMITED);
        await stockLoadProduct(ctx.system);
        const session = await customerSession(ctx);
        const run = randomUUID().slice(0, 8);
        // Counted from here, warm-up included: its requests use the same run's keys.
        const since = new Date();
        const order = ctx.system.pid('order');
        return {
          vars: { GATEWAY_URL: session.gatewayUrl, TOKEN: session.token, RUN: run },
          processes: { gateway, ...(order === undefined ? {} : { order }) },
          findings: async (attacks) => {
            const sent = attacks[0]?.requests ?? 0;
            const keys = Math.min(KEYS, sent); // warm-up uses the first keys, the attack all of them
            // The gateway stores its own key per caller and key; the order service de-duplicates on it too.
            const { rows } = await ctx.system.databases().orders.query(
              `SELECT count(*)::int AS orders, count(DISTINCT idempotency_key)::int AS keys
                 FROM orders WHERE customer_id = $1 AND created_at >= $2`,
              [session.customerId, since],
            );
            const found = rows[0] as { orders: number; keys: number };
            const failures =
              found.orders !== keys
                ? [`${found.orders} orders for ${keys} idempotency keys (${sent} requests)`]
                : [];
            return {
              facts: { requests: sent, 'idempotency keys': keys, 'orders created': found.orders },
              failures,
            };
          },
          cleanup: defaults(ctx.system),
        };
      },
      attacks: (mode) => [
        {
          name: 'retries',
          ...(mode === 'full' ? { rate: 200, durationS: 20 } : { rate: 40, durationS: 2 }),
          request: {
            ...PLACE_ORDER,
            headers: { ...PLACE_ORDER.headers, 'idempotency-key': '{{var:RUN}}-{{key:order:200}}' },
          },
          // 202 (accepted, or the first answer replayed) and 409 (the same key still in flight) are answers.
          okStatuses: [202, 409],
        },
      ],
      thresholds: () => [{ attack: 'retries', metric: 'errorRate', max: 0.001 }],
    },
  ],
};
