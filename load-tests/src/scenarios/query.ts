import type { System } from '@saga-lab/stack';
import type { PrepareContext, Prepared, Scenario, Variant } from '../scenario';
import { login } from '../targets';
import { UNLIMITED, defaults, gatewayWith, size } from './common';

/** Orders of one customer seeded for the scenario (removed afterwards), marked by their idempotency keys. */
const SEEDED = { full: 200_000, smoke: 2_000 } as const;
const MARK = 'load-query-';

/** The indexes a page of orders is read through (apps/order/src/infra/migrations, OrdersPageIndexes). */
const INDEXES = {
  orders_customer_page_idx:
    'CREATE INDEX orders_customer_page_idx ON orders (customer_id, created_at, order_id)',
  orders_page_idx: 'CREATE INDEX orders_page_idx ON orders (created_at, order_id)',
};

/** The list endpoint's query for one customer's first page, as apps/order/src/domain/orders.ts runs it. */
const LIST_SQL = `SELECT * FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, order_id DESC LIMIT 21`;

async function seed(system: System, customerId: string, count: number): Promise<void> {
  const db = system.databases().orders;
  const { rows } = await db.query(`SELECT count(*)::int AS n FROM orders WHERE idempotency_key LIKE $1`, [
    `${MARK}%`,
  ]);
  if ((rows[0] as { n: number }).n === count) return;
  await db.query(`DELETE FROM orders WHERE idempotency_key LIKE $1`, [`${MARK}%`]);
  // Finished orders spread over a year, so a page has to be found among many.
  await db.query(
    `INSERT INTO orders (order_id, customer_id, lines, total_minor, currency, status, idempotency_key, created_at, updated_at)
     SELECT gen_random_uuid(), $1, '[{"productId":"load-test-beans","quantity":1}]', 100, 'EUR', 'CONFIRMED',
            $2 || g, now() - (g * interval '157 seconds'), now() - (g * interval '157 seconds')
       FROM generate_series(1, $3) AS g`,
    [customerId, MARK, count],
  );
  await db.query('ANALYZE orders');
}

async function plan(system: System, customerId: string): Promise<string> {
  const { rows } = await system
    .databases()
    .orders.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${LIST_SQL}`, [customerId]);
  return (rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
}

async function prepare(ctx: PrepareContext, withIndex: boolean): Promise<Prepared> {
  const gateway = await gatewayWith(ctx.system, UNLIMITED);
  const [, bob] = ctx.system.customers();
  if (!bob) throw new Error('no second demo customer');
  const customerId = `c-${bob.username}`; // the demo users' customer ids (infra/local/src/components/service.ts)
  const gatewayUrl = ctx.env('GATEWAY_URL');
  const token = await login(gatewayUrl, bob.username, bob.password);
  await seed(ctx.system, customerId, SEEDED[ctx.mode]);
  const db = ctx.system.databases().orders;
  if (!withIndex) for (const name of Object.keys(INDEXES)) await db.query(`DROP INDEX IF EXISTS ${name}`);
  const postgres = ctx.system.pid('postgres');
  const order = ctx.system.pid('order');
  return {
    vars: { GATEWAY_URL: gatewayUrl, TOKEN: token },
    processes: {
      gateway,
      ...(order === undefined ? {} : { order }),
      ...(postgres === undefined ? {} : { postgres }),
    },
    findings: async () => ({
      facts: {
        'orders of the customer': SEEDED[ctx.mode],
        index: withIndex ? 'orders_customer_page_idx' : 'none',
      },
      notes: [
        `EXPLAIN (ANALYZE, BUFFERS) of the first page:\n\n\`\`\`\n${await plan(ctx.system, customerId)}\n\`\`\``,
      ],
    }),
    cleanup: async () => {
      for (const [name, sql] of Object.entries(INDEXES)) {
        const { rows } = await db.query(`SELECT 1 FROM pg_indexes WHERE indexname = $1`, [name]);
        if (rows.length === 0) await db.query(sql);
      }
      if (withIndex) return;
      await db.query(`DELETE FROM orders WHERE idempotency_key LIKE $1`, [`${MARK}%`]);
      await defaults(ctx.system)();
    },
  };
}

const variant = (name: string, withIndex: boolean): Variant => ({
  name,
  prepare: (ctx) => prepare(ctx, withIndex),
  attacks: (mode) => [
    {
      name: 'list',
      ...size(mode, { rate: 200, durationS: 20 }, { rate: 10, durationS: 2 }),
      request: {
        method: 'GET',
        url: '{{var:GATEWAY_URL}}/v1/orders?limit=20',
        headers: { authorization: 'Bearer {{var:TOKEN}}' },
      },
    },
  ],
  thresholds: (mode) =>
    withIndex && mode === 'full'
      ? [
          { attack: 'list', metric: 'p99Ms', max: 100 },
          { attack: 'list', metric: 'errorRate', max: 0.001 },
        ]
      : [],
});

export const query: Scenario = {
  name: 'query',
  title: 'query: a customer’s order list with and without its index',
  question:
    'What does the index on (customer_id, created_at, order_id) buy the order list on a table of 200,000 of one customer’s orders — the plan, and the latency at a fixed rate?',
  variants: [variant('with index', true), variant('without index', false)],
};
