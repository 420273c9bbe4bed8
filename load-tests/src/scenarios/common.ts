import type { System } from '@saga-lab/stack';
import { call, login } from '../targets';
import type { Mode, PrepareContext, Prepared, RequestTemplate } from '../scenario';

/** Rate and duration for the full run and the smoke run `npm test` does. */
export const size = (
  mode: Mode,
  full: { rate: number; durationS: number },
  smoke = { rate: 20, durationS: 2 },
) => (mode === 'full' ? full : smoke);

/** Limits high enough that nothing in a read scenario is refused (rate limiting has a scenario of its own). */
export const UNLIMITED = {
  GATEWAY_RATE_LIMIT_USER: '100000000:100000000',
  GATEWAY_RATE_LIMIT_IP: '100000000:100000000',
};

/**
 * The gateway as a high-volume read path runs it: limits that refuse nothing, the approximate limiter (no
 * Redis round trip per request; the rate-limit scenario compares both), traces sampled at 1 % (head
 * sampling, as at this volume in production; the tracing cost at 0, 10 and 100 % is measured apart), and
 * the access log kept to refused, failed and slow requests (the request metrics count every one).
 */
export const READ_PATH = {
  ...UNLIMITED,
  GATEWAY_RATE_LIMIT_MODE: 'approximate',
  TRACE_SAMPLE_RATIO: '0.01',
  GATEWAY_ACCESS_LOG: 'errors',
};

/** The run id services restarted by the load tests carry (their settings are accepted only with one). */
export const RUN_ID = 'load-tests';

/** Runs the gateway with these settings (restarting it if they differ), the other services with theirs. */
export async function gatewayWith(
  system: System,
  env: Record<string, string>,
  diagnostics: { profileDir?: string; heapDir?: string } = {},
): Promise<number> {
  await system.ensureUp();
  const options = [
    // V8 flags to try on the gateway (e.g. LOAD_GATEWAY_NODE_OPTIONS=--max-semi-space-size=8).
    ...(process.env['LOAD_GATEWAY_NODE_OPTIONS'] ? [process.env['LOAD_GATEWAY_NODE_OPTIONS']] : []),
    ...(diagnostics.profileDir ? [`--cpu-prof --cpu-prof-dir=${diagnostics.profileDir}`] : []),
    ...(diagnostics.heapDir ? [`--heapsnapshot-signal=SIGUSR2 --diagnostic-dir=${diagnostics.heapDir}`] : []),
  ];
  const profiling: Record<string, string> = options.length ? { NODE_OPTIONS: options.join(' ') } : {};
  await system.configureServices({ gateway: { ...env, ...profiling } }, RUN_ID);
  const pid = system.pid('gateway');
  if (pid === undefined) throw new Error('the gateway is not running');
  return pid;
}

/** Back to every service's defaults. */
export const defaults = (system: System) => (): Promise<void> => system.configureServices({}, RUN_ID);

/** A customer's token and the catalogue's product ids, read through the gateway. */
export async function customerSession(
  ctx: PrepareContext,
): Promise<{ gatewayUrl: string; token: string; products: string[]; customerId: string }> {
  const gatewayUrl = ctx.env('GATEWAY_URL');
  const [alice] = ctx.system.customers();
  if (!alice) throw new Error('no demo customer');
  const token = await login(gatewayUrl, alice.username, alice.password);
  const { body } = await call('GET', `${gatewayUrl}/v1/products?limit=20`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const products = ((body as { items?: { productId: string }[] }).items ?? []).map((p) => p.productId);
  if (products.length === 0)
    throw new Error('the catalogue is empty: start the system with npm start (it seeds products)');
  // The demo users' customer ids are `c-<username>` (infra/local/src/components/service.ts).
  return { gatewayUrl, token, products, customerId: `c-${alice.username}` };
}

/** The cached product read: one of the catalogue's products, with a bearer token. */
export const PRODUCT_READ: RequestTemplate = {
  method: 'GET',
  url: '{{var:GATEWAY_URL}}/v1/products/{{pick:PRODUCTS}}',
  headers: { authorization: 'Bearer {{var:TOKEN}}' },
};

/** Prepared for the product read, with the gateway in the given shape. */
export async function productReads(
  ctx: PrepareContext,
  gatewayEnv: Record<string, string>,
): Promise<Prepared> {
  const gateway = await gatewayWith(ctx.system, gatewayEnv, {
    ...(ctx.profileDir ? { profileDir: ctx.profileDir } : {}),
    ...(ctx.heapDir ? { heapDir: ctx.heapDir } : {}),
  });
  const session = await customerSession(ctx);
  const inventory = ctx.system.pid('inventory');
  return {
    vars: { GATEWAY_URL: session.gatewayUrl, TOKEN: session.token, PRODUCTS: session.products.join(',') },
    processes: { gateway, ...(inventory === undefined ? {} : { inventory }) },
    ...(ctx.heapDir ? { heapSnapshots: ['gateway'] } : {}),
    cleanup: defaults(ctx.system),
  };
}

/** The sum of a Prometheus metric's series whose labels include `match`, from a /metrics page. */
export async function metricSum(
  url: string,
  name: string,
  match: Record<string, string> = {},
): Promise<number> {
  const text = await (await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const labels = Object.fromEntries(
      [...(m[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1] as string, l[2] as string]),
    );
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) sum += Number(m[4]);
  }
  return sum;
}

/** A TCP port nothing listens on now (for an extra instance). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Polls `url` until it answers 200 (an instance starting), or fails after `timeoutMs`. */
export async function waitReady(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} did not answer 200 within ${timeoutMs / 1000} s`);
}

/** A product orders can never run out of, so every saga takes the full path (reserve, pay, capture). */
export const LOAD_PRODUCT = 'load-test-beans';

export async function stockLoadProduct(system: System): Promise<void> {
  await system.databases().inventory.query(
    `INSERT INTO products (product_id, name, price_minor, currency, available)
     VALUES ($1, 'Load test beans', 100, 'EUR', 100000000)
     ON CONFLICT (product_id) DO UPDATE SET available = 100000000`,
    [LOAD_PRODUCT],
  );
}

/** Placing one order of the load product, with a fresh idempotency key per request. */
export const PLACE_ORDER: RequestTemplate = {
  method: 'POST',
  url: '{{var:GATEWAY_URL}}/v1/orders',
  headers: {
    authorization: 'Bearer {{var:TOKEN}}',
    'content-type': 'application/json',
    'idempotency-key': '{{uuid}}',
  },
  body: `{"lines":[{"productId":"${LOAD_PRODUCT}","quantity":1}]}`,
};

export interface SagaOutcome {
  readonly placed: number;
  readonly confirmed: number;
  readonly cancelled: number;
  readonly rejected: number;
  readonly pending: number;
  /** Cancelled by a step deadline (the reaper), i.e. because the system was busy. */
  readonly timedOut: number;
  readonly confirmedPerSecond: number;
  readonly completion: { p50Ms: number; p99Ms: number; maxMs: number };
}

/**
 * What became of a customer's orders placed since `since`: waits until none is pending (or `waitMs`
 * passed), then counts them and measures completion (created → final status) from the order database.
 */
export async function sagaOutcome(
  system: System,
  customerId: string,
  since: Date,
  waitMs = 90_000,
): Promise<SagaOutcome> {
  const db = system.databases().orders;
  const deadline = Date.now() + waitMs;
  for (;;) {
    const { rows } = await db.query(
      `SELECT count(*)::int AS n FROM orders WHERE customer_id = $1 AND created_at >= $2 AND status = 'PENDING'`,
      [customerId, since],
    );
    if ((rows[0] as { n: number }).n === 0 || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  const { rows } = await db.query(
    `SELECT count(*)::int AS placed,
            count(*) FILTER (WHERE status = 'CONFIRMED')::int AS confirmed,
            count(*) FILTER (WHERE status = 'CANCELLED')::int AS cancelled,
            count(*) FILTER (WHERE status = 'REJECTED')::int AS rejected,
            count(*) FILTER (WHERE status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE status = 'CANCELLED' AND status_reason LIKE '%timed out%')::int AS timed_out,
            coalesce(extract(epoch FROM max(updated_at) FILTER (WHERE status = 'CONFIRMED') - min(created_at)), 0)::float8 AS span_s,
            coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING'), 0)::float8 AS p50,
            coalesce(percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING'), 0)::float8 AS p99,
            coalesce(max(extract(epoch FROM updated_at - created_at) * 1000) FILTER (WHERE status <> 'PENDING'), 0)::float8 AS max
       FROM orders WHERE customer_id = $1 AND created_at >= $2`,
    [customerId, since],
  );
  const r = rows[0] as Record<string, number>;
  const round = (v: number): number => Math.round(v);
  return {
    placed: r['placed'] as number,
    confirmed: r['confirmed'] as number,
    cancelled: r['cancelled'] as number,
    rejected: r['rejected'] as number,
    pending: r['pending'] as number,
    timedOut: r['timed_out'] as number,
    confirmedPerSecond:
      Math.round(((r['confirmed'] as number) / Math.max(1, r['span_s'] as number)) * 10) / 10,
    completion: {
      p50Ms: round(r['p50'] as number),
      p99Ms: round(r['p99'] as number),
      maxMs: round(r['max'] as number),
    },
  };
}
