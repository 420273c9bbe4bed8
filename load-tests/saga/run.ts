/**
 * Saga throughput and completion time. Runs the k6 scenario at a moderate fixed rate and at a rate above
 * saturation, then measures from the order service's database: sagas completed per second (first order
 * created → last order settled) and each order's completion time (created_at → updated_at when it
 * settled). Writes load-tests/results/saga-<date>.json and .md with the machine it ran on.
 *
 *   npm start                       # services running
 *   npm run load:saga               # or: RATES=30,300 DURATION=20s npm run load:saga
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';
import { k6Run } from '../shared/k6';
import { RESULTS_DIR, describeMachine, today, writeResults } from '../shared/results';
import { required, runScript } from '../shared/script';

const env = (name: string): string =>
  required(name, "run through `npm run load:saga` (it exports the stack's environment)");

interface Run {
  readonly rate: number;
  readonly duration: string;
  readonly placed: number;
  readonly confirmed: number;
  readonly cancelled: number;
  readonly unsettled: number;
  /** Sagas that reached a terminal state, per second; and the CONFIRMED ones among them. */
  readonly sagasPerSecond: number;
  readonly confirmedPerSecond: number;
  readonly completionMs: { p50: number; p90: number; p99: number; max: number };
}

async function measure(db: Client, customer: string, rate: number, duration: string): Promise<Run> {
  // Wait for every order of the run to settle (or give up after 120 s and report what is left).
  for (let waited = 0; waited < 120_000; waited += 1_000) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM orders WHERE customer_id = $1 AND status = 'PENDING'`,
      [customer],
    );
    if ((rows[0] as { n: number }).n === 0) break;
    await sleep(1_000);
  }
  const { rows } = await db.query(
    `SELECT count(*)::int AS placed,
            count(*) FILTER (WHERE status = 'CONFIRMED')::int AS confirmed,
            count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
            count(*) FILTER (WHERE status = 'PENDING')::int AS unsettled,
            extract(epoch FROM max(updated_at) FILTER (WHERE status <> 'PENDING') - min(created_at)) AS span_s,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING') AS p50,
            percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING') AS p90,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING') AS p99,
            max(extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING') AS max
       FROM orders WHERE customer_id = $1`,
    [customer],
  );
  const r = rows[0] as Record<string, number | string | null>;
  const settled = Number(r['placed']) - Number(r['unsettled']);
  return {
    rate,
    duration,
    placed: Number(r['placed']),
    confirmed: Number(r['confirmed']),
    cancelled: Number(r['cancelled']),
    unsettled: Number(r['unsettled']),
    sagasPerSecond: Math.round((settled / Number(r['span_s'] ?? 1)) * 10) / 10,
    confirmedPerSecond: Math.round((Number(r['confirmed']) / Number(r['span_s'] ?? 1)) * 10) / 10,
    completionMs: {
      p50: Math.round(Number(r['p50'])),
      p90: Math.round(Number(r['p90'])),
      p99: Math.round(Number(r['p99'])),
      max: Math.round(Number(r['max'])),
    },
  };
}

async function main(): Promise<void> {
  const rates = (process.env['RATES'] ?? '30,400').split(',').map(Number);
  const duration = process.env['DURATION'] ?? '20s';
  const orderUrl = env('ORDER_URL');
  const k6 = env('K6_BIN');
  const inventoryDb = new Client({ connectionString: env('INVENTORY_DATABASE_URL') });
  const orderDb = new Client({ connectionString: env('ORDER_DATABASE_URL') });
  await inventoryDb.connect();
  await orderDb.connect();
  // A product that cannot run out, so every saga takes the full path (reserve, authorize, capture).
  await inventoryDb.query(
    `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ('load-test-beans', 'Load test beans', 100, 'EUR', 10000000)
     ON CONFLICT (product_id) DO UPDATE SET available = 10000000 + products.reserved * 0`,
  );
  const runs: Run[] = [];
  for (const rate of rates) {
    const customer = `load-${Date.now()}-${rate}`;
    process.stderr.write(`… ${rate} orders/s for ${duration}\n`);
    const k6Scenario = k6Run(path.join(__dirname, 'place-orders.k6.js'), {
      RATE: String(rate),
      DURATION: duration,
      ORDER_URL: orderUrl,
      CUSTOMER: customer,
    });
    execFileSync(k6, k6Scenario.args, { env: k6Scenario.env, stdio: ['ignore', 'inherit', 'inherit'] });
    runs.push(await measure(orderDb, customer, rate, duration));
  }
  await inventoryDb.end();
  await orderDb.end();

  // The saga's results have never named the kernel: their shape stays as it was.
  const { kernel: _kernel, ...machine } = describeMachine();
  const stamp = today();
  const report = [
    `# Saga throughput and completion time (${stamp})`,
    '',
    `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Node ${machine.node}; Kafka, PostgreSQL and the three services on the same machine.`,
    `Command: \`npm start && RATES=${rates.join(',')} DURATION=${duration} npm run load:saga\`. Every order takes the full path (reserve, authorize, capture).`,
    '',
    '| arrival rate (orders/s) | placed | confirmed | cancelled | unsettled | sagas settled/s | confirmed/s | p50 | p90 | p99 | max |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...runs.map(
      (r) =>
        `| ${r.rate} for ${r.duration} | ${r.placed} | ${r.confirmed} | ${r.cancelled} | ${r.unsettled} | ${r.sagasPerSecond} | ${r.confirmedPerSecond} | ${r.completionMs.p50} ms | ${r.completionMs.p90} ms | ${r.completionMs.p99} ms | ${r.completionMs.max} ms |`,
    ),
    '',
    'Completion time = the order row’s `updated_at − created_at`: from the commit of the order and its saga to the commit of its final status.',
    'Above saturation, work queues (Kafka, outbox) and completion time grows through the run until step deadlines expire: the',
    'reaper then cancels those orders (compensating correctly — nothing is lost, see the end-to-end invariants). The settled/s',
    'figure is the saturation throughput; confirmed/s shows how much of it was useful work. Admission control at the edge',
    '(rate limits, 503 when the backlog is deep) is what keeps a system below that point.',
    '',
  ].join('\n');
  writeResults(path.join(RESULTS_DIR, `saga-${stamp}`), { machine, runs }, report);
  process.stdout.write(`${report}\n`);
}

runScript(main);
