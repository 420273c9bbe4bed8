import Redis from 'ioredis';
import type { Scenario } from '../scenario';
import { PRODUCT_READ, READ_PATH, metricSum, productReads, size } from './common';

export const stampede: Scenario = {
  name: 'stampede',
  title: 'stampede: a cold cache under load',
  question:
    'When the cache is empty (flushed, the gateway restarted) and thousands of reads per second arrive, do the backend calls stay about one per product (single-flight), or does every miss go to the inventory service?',
  variants: [
    {
      name: 'cold cache',
      prepare: async (ctx) => {
        // A fresh run id restarts the gateway (its in-process cache empty); the shared copies go from Redis.
        const prepared = await productReads(ctx, {
          ...READ_PATH,
          SAGA_LAB_STAMPEDE_RUN: String(Date.now()),
        });
        const redis = new Redis(ctx.env('REDIS_URL'), { lazyConnect: true, maxRetriesPerRequest: 1 });
        await redis.connect();
        let flushed = 0;
        try {
          const keys = await redis.keys('gw:product:*');
          if (keys.length) flushed = await redis.del(...keys);
        } finally {
          redis.disconnect();
        }
        const gatewayUrl = prepared.vars['GATEWAY_URL'] as string;
        const count = (): Promise<[number, number]> =>
          Promise.all([
            metricSum(gatewayUrl, 'gateway_product_cache_origin_loads_total'),
            metricSum(gatewayUrl, 'gateway_upstream_requests_total', { service: 'inventory' }),
          ]);
        const [loadsBefore, inventoryBefore] = await count();
        const products = (prepared.vars['PRODUCTS'] as string).split(',').length;
        return {
          ...prepared,
          findings: async () => {
            const [loadsAfter, inventoryAfter] = await count();
            const loads = loadsAfter - loadsBefore;
            const inventoryCalls = inventoryAfter - inventoryBefore;
            // One load per product, plus at most one early refresh each: anything beyond is a stampede.
            const failures =
              loads > products * 2
                ? [`${loads} origin loads for ${products} products: the misses were not coalesced`]
                : [];
            return {
              facts: {
                'products read': products,
                'shared cache entries flushed': flushed,
                'origin loads (gateway)': loads,
                'calls to the inventory service': inventoryCalls,
              },
              failures,
            };
          },
        };
      },
      attacks: (mode) => [
        {
          name: 'read',
          ...size(mode, { rate: 3_000, durationS: 10 }, { rate: 200, durationS: 2 }),
          request: PRODUCT_READ,
        },
      ],
      thresholds: () => [{ attack: 'read', metric: 'errorRate', max: 0.001 }],
    },
  ],
};
