import type { Scenario } from '../scenario';
import { baselineVariant } from './baseline';
import { PRODUCT_READ, READ_PATH, productReads, size } from './common';

const FULL = { rate: 10_000, durationS: 60 };

export const read10k: Scenario = {
  name: 'read-10k',
  title: 'read-10k: the cached, authenticated product read at 10,000 requests/s',
  question:
    'Can one gateway process answer 10,000 authenticated product reads per second with p99 under 100 ms on two cores shared with the load generator — and what does the cache buy?',
  variants: [
    {
      name: 'cache on',
      prepare: (ctx) => productReads(ctx, READ_PATH),
      attacks: (mode) => [{ name: 'read', ...size(mode, FULL), request: PRODUCT_READ }],
      thresholds: (mode) => [
        { attack: 'read', metric: 'errorRate', max: 0.001 },
        ...(mode === 'full'
          ? ([
              { attack: 'read', metric: 'p99Ms', max: 100 },
              { attack: 'read', metric: 'achievedRate', min: FULL.rate * 0.99 },
            ] as const)
          : []),
      ],
    },
    {
      name: 'cache off',
      prepare: (ctx) => productReads(ctx, { ...READ_PATH, GATEWAY_PRODUCT_CACHE: 'off' }),
      // Every read goes to the inventory service and its database: offered the same rate, for less long.
      attacks: (mode) => [
        { name: 'read', ...size(mode, { rate: FULL.rate, durationS: 20 }), request: PRODUCT_READ },
      ],
    },
    baselineVariant('baseline', { rate: FULL.rate, durationS: 20 }),
  ],
};
