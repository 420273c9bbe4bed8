import { requireEnv, runSchemathesis, uniqueName, waitUntil, type ServiceProcess } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import {
  forgeToken,
  http,
  login,
  metric,
  rawHttp,
  startGateway,
  startInventory,
  startOrder,
  startPayment,
  USERS,
  type Answer,
  type Tokens,
} from './support';

/** A span as Zipkin's API returns it. */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  kind?: 'CLIENT' | 'SERVER' | 'PRODUCER' | 'CONSUMER';
  name?: string;
  timestamp: number;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}

interface ErrorBody {
  error: { code: string; message: string; correlationId: string; details?: unknown };
}
interface OrderDetail {
  order: { orderId: string; customerId: string; status: string };
  payment: { status: string; data?: unknown; error?: { code: string } };
  reservation: { status: string; data?: unknown; error?: { code: string } };
}

const expectError = (answer: Answer, status: number, code: string): void => {
  expect({ status: answer.status, code: (answer.body as ErrorBody | undefined)?.error?.code }).toEqual({
    status,
    code,
  });
  expect((answer.body as ErrorBody).error.correlationId).toEqual(expect.any(String));
};

/**
 * The public API end to end: the three services and the gateway as real processes, discovered through
 * Consul, over the real Kafka, PostgreSQL and Redis.
 */
describe('gateway, end to end', () => {
  let inventory: ServiceProcess;
  let payment: ServiceProcess | undefined;
  let order: ServiceProcess;
  let gateway: ServiceProcess;
  let gw: string;
  let inventoryDb: Client;
  let alice: Tokens;
  let bob: Tokens;
  let root: Tokens;

  beforeAll(async () => {
    inventory = await startInventory();
    [payment, order] = await Promise.all([startPayment(), startOrder(inventory.url)]);
    gateway = await startGateway();
    gw = gateway.url;
    inventoryDb = new Client({ connectionString: requireEnv('INVENTORY_DATABASE_URL') });
    await inventoryDb.connect();
    [alice, bob, root] = await Promise.all([login(gw, 'alice'), login(gw, 'bob'), login(gw, 'root')]);
  }, 180_000);

  afterAll(async () => {
    await inventoryDb?.end();
    await gateway?.stop();
    await order?.stop();
    await payment?.stop();
    await inventory?.stop();
  });

  async function product(available = 100, priceMinor = 1_000): Promise<string> {
    const productId = uniqueName('gw').slice(0, 60);
    await inventoryDb.query(
      `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ($1, $1, $2, 'EUR', $3)`,
      [productId, priceMinor, available],
    );
    return productId;
  }
  const place = (token: string, key: string, body: unknown): Promise<Answer> =>
    http(`${gw}/v1/orders`, { method: 'POST', token, body, headers: { 'idempotency-key': key } });

  describe('authentication', () => {
    it('refuses missing, expired, tampered, alg:none, wrong-audience and wrong-issuer tokens with 401', async () => {
      const url = `${gw}/v1/products/espresso-beans`;
      expectError(await http(url), 401, 'UNAUTHENTICATED');
      expectError(
        await http(url, { token: await forgeToken({ exp: Math.floor(Date.now() / 1000) - 5 }) }),
        401,
        'TOKEN_EXPIRED',
      );
      const [header, payload, signature] = alice.access_token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const escalated = Buffer.from(JSON.stringify({ ...claims, role: 'admin' })).toString('base64url');
      expectError(await http(url, { token: `${header}.${escalated}.${signature}` }), 401, 'INVALID_TOKEN');
      const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
      expectError(await http(url, { token: `${none}.${payload}.` }), 401, 'INVALID_TOKEN'); // unsigned
      expectError(await http(url, { token: `${none}.${payload}.x` }), 401, 'INVALID_TOKEN');
      expectError(await http(url, { token: await forgeToken({ aud: 'another-api' }) }), 401, 'INVALID_TOKEN');
      expectError(
        await http(url, { token: await forgeToken({ iss: 'someone-else' }) }),
        401,
        'INVALID_TOKEN',
      );
      expect((await http(url, { token: alice.access_token })).status).toBe(200);
    });

    it('refuses a wrong password and an unknown user alike', async () => {
      const wrong = await http(`${gw}/v1/auth/token`, {
        method: 'POST',
        body: { grant_type: 'password', username: 'alice', password: 'not-her-password' },
      });
      const unknown = await http(`${gw}/v1/auth/token`, {
        method: 'POST',
        body: { grant_type: 'password', username: 'mallory', password: 'whatever-password' },
      });
      expectError(wrong, 401, 'INVALID_CREDENTIALS');
      expectError(unknown, 401, 'INVALID_CREDENTIALS');
      expectError(
        await http(`${gw}/v1/auth/token`, { method: 'POST', body: { username: 'alice' } }),
        400,
        'VALIDATION_FAILED',
      );
    });

    it('rotates refresh tokens; reusing one revokes the family; logout revokes it too', async () => {
      const session = await login(gw, 'alice');
      const rotated = await http<Tokens>(`${gw}/v1/auth/refresh`, {
        method: 'POST',
        body: { refresh_token: session.refresh_token },
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body.refresh_token).not.toBe(session.refresh_token);
      expect((await http(`${gw}/v1/orders`, { token: rotated.body.access_token })).status).toBe(200);

      const reuse = await http(`${gw}/v1/auth/refresh`, {
        method: 'POST',
        body: { refresh_token: session.refresh_token },
      });
      expectError(reuse, 401, 'REFRESH_TOKEN_REUSED');
      const afterReuse = await http(`${gw}/v1/auth/refresh`, {
        method: 'POST',
        body: { refresh_token: rotated.body.refresh_token },
      });
      expectError(afterReuse, 401, 'SESSION_REVOKED');

      const other = await login(gw, 'bob');
      expect(
        (await http(`${gw}/v1/auth/logout`, { method: 'POST', body: { refresh_token: other.refresh_token } }))
          .status,
      ).toBe(204);
      expectError(
        await http(`${gw}/v1/auth/refresh`, { method: 'POST', body: { refresh_token: other.refresh_token } }),
        401,
        'SESSION_REVOKED',
      );
    });
  });

  describe('products', () => {
    it('pages with an opaque cursor, has_more and a Link header, to the end', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = cursor ? `limit=2&cursor=${encodeURIComponent(cursor)}` : 'limit=2';
        const answer = await http<{
          items: { productId: string }[];
          has_more: boolean;
          next_cursor: string | null;
        }>(`${gw}/v1/products?${query}`, { token: alice.access_token });
        expect(answer.status).toBe(200);
        expect(answer.body.items.length).toBeLessThanOrEqual(2);
        expect(answer.body.has_more).toBe(answer.body.next_cursor !== null);
        if (answer.body.has_more)
          expect(answer.headers.get('link')).toMatch(/^<\/v1\/products\?limit=2&cursor=.+>; rel="next"$/);
        else expect(answer.headers.get('link')).toBeNull();
        seen.push(...answer.body.items.map((p) => p.productId));
        cursor = answer.body.next_cursor;
        pages += 1;
      } while (cursor && pages < 5);
      expect(seen.slice(0, 4)).toEqual([...seen.slice(0, 4)].sort());
      expect(new Set(seen).size).toBe(seen.length);
      expectError(
        await http(`${gw}/v1/products?limit=0`, { token: alice.access_token }),
        400,
        'VALIDATION_FAILED',
      );
      expect(
        (await http(`${gw}/v1/products?cursor=not-a-cursor!!`, { token: alice.access_token })).status,
      ).toBe(400);
    });

    it('answers one product with ETag and Cache-Control, and 304 for a current copy', async () => {
      const id = await product();
      const first = await http(`${gw}/v1/products/${id}`, { token: alice.access_token });
      expect(first.status).toBe(200);
      expect(first.body).toMatchObject({
        productId: id,
        available: 100,
        price: { amountMinor: 1_000, currency: 'EUR' },
      });
      const etag = first.headers.get('etag');
      expect(etag).toMatch(/^".+"$/);
      expect(first.headers.get('cache-control')).toContain('max-age=');
      const again = await http(`${gw}/v1/products/${id}`, {
        token: alice.access_token,
        headers: { 'if-none-match': etag ?? '' },
      });
      expect(again.status).toBe(304);
      expect(again.text).toBe('');
      expectError(
        await http(`${gw}/v1/products/${id}-missing`, { token: alice.access_token }),
        404,
        'PRODUCT_NOT_FOUND',
      );
      expectError(
        await http(`${gw}/v1/products/NOT%20A%20SLUG`, { token: alice.access_token }),
        404,
        'PRODUCT_NOT_FOUND',
      );
    });

    it('serves 500 concurrent misses on one product with one call to the inventory service', async () => {
      const id = await product();
      const callsBefore = await metric(gw, 'gateway_upstream_requests_total', { service: 'inventory' });
      const loadsBefore = await metric(gw, 'gateway_product_cache_origin_loads_total');
      const originBefore = await metric(gw, 'gateway_product_cache_lookups_total', { tier: 'origin' });
      const answers = await Promise.all(
        Array.from({ length: 500 }, () => http(`${gw}/v1/products/${id}`, { token: alice.access_token })),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(500).fill(200));
      expect(
        (await metric(gw, 'gateway_upstream_requests_total', { service: 'inventory' })) - callsBefore,
      ).toBe(1);
      expect((await metric(gw, 'gateway_product_cache_origin_loads_total')) - loadsBefore).toBe(1);
      // One read went to the origin; the other 499 were answered by memory or by joining that one load.
      expect(
        (await metric(gw, 'gateway_product_cache_lookups_total', { tier: 'origin' })) - originBefore,
      ).toBe(1);
      expect(await metric(gw, 'gateway_product_cache_hit_ratio')).toBeGreaterThan(0.9);
    });

    it('drops the cached copy within a second of a product update (ProductUpdated from Kafka)', async () => {
      const id = await product(100, 1_000);
      expect((await http(`${gw}/v1/products/${id}`, { token: alice.access_token })).body).toMatchObject({
        price: { amountMinor: 1_000 },
      });
      expectError(
        await http(`${gw}/v1/products/${id}`, {
          method: 'PATCH',
          token: alice.access_token,
          body: { price: { amountMinor: 900 } },
        }),
        403,
        'FORBIDDEN',
      );
      const changed = await http(`${gw}/v1/products/${id}`, {
        method: 'PATCH',
        token: root.access_token,
        body: { price: { amountMinor: 900 } },
      });
      expect(changed.status).toBe(200);
      const updatedAt = Date.now();
      await waitUntil(
        async () => {
          const answer = await http<{ price: { amountMinor: number } }>(`${gw}/v1/products/${id}`, {
            token: alice.access_token,
          });
          return answer.body.price.amountMinor === 900 || undefined;
        },
        {
          timeoutMs: 1_000,
          intervalMs: 25,
          what: 'the new price through the cache (TTL is 60 s, so only the event explains it)',
        },
      );
      expect(Date.now() - updatedAt).toBeLessThan(1_000);
      expect(await metric(gw, 'gateway_product_cache_invalidations_total')).toBeGreaterThan(0);
    });

    it('keeps the old /v1/catalog route working, announcing Deprecation, Sunset and its successor', async () => {
      const answer = await http(`${gw}/v1/catalog?limit=1`, { token: alice.access_token });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('deprecation')).toMatch(/^@\d+$/);
      expect(new Date(answer.headers.get('sunset') ?? '').getTime()).toBeGreaterThan(Date.now());
      expect(answer.headers.get('link')).toContain('</v1/products>; rel="successor-version"');
    });
  });

  describe('orders', () => {
    it('20 concurrent POSTs with one key make one order; every client ends with the same response', async () => {
      const id = await product(50);
      const key = randomUUID();
      const body = { lines: [{ productId: id, quantity: 1 }] };
      const first = await Promise.all(Array.from({ length: 20 }, () => place(alice.access_token, key, body)));
      for (const answer of first) {
        expect([202, 409]).toContain(answer.status);
        if (answer.status === 409) {
          expectError(answer, 409, 'IDEMPOTENCY_KEY_IN_USE');
          expect(answer.headers.get('retry-after')).toBe('1');
        }
      }
      // Clients that got 409 retry, as they are told to; every final answer is the first response.
      const final = await Promise.all(
        first.map(async (answer) => {
          let current = answer;
          while (current.status === 409) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            current = await place(alice.access_token, key, body);
          }
          return current;
        }),
      );
      expect(new Set(final.map((a) => a.status))).toEqual(new Set([202]));
      expect(new Set(final.map((a) => a.text)).size).toBe(1);
      expect(new Set(final.map((a) => a.headers.get('location'))).size).toBe(1);
      const orderId = (final[0]?.body as { orderId: string }).orderId;
      expect(final[0]?.headers.get('location')).toBe(`/v1/orders/${orderId}`);
      const replay = await place(alice.access_token, key, body);
      expect(replay.text).toBe(final[0]?.text);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      // Exactly one order and one reservation exist for these 20+ requests.
      const reserved = await inventoryDb.query(
        'SELECT count(*)::int AS n FROM reservations WHERE order_id = $1',
        [orderId],
      );
      expect((reserved.rows[0] as { n: number }).n).toBeLessThanOrEqual(1);
      const mine = await http<{ items: { orderId: string }[] }>(`${gw}/v1/orders?limit=100`, {
        token: alice.access_token,
      });
      expect(mine.body.items.filter((o) => o.orderId === orderId)).toHaveLength(1);

      expectError(
        await place(alice.access_token, key, { lines: [{ productId: id, quantity: 2 }] }),
        422,
        'IDEMPOTENCY_KEY_REUSED',
      );
    });

    it('confirms an order through the saga; the detail is assembled from order, payment and inventory', async () => {
      const id = await product(10, 1_250);
      const placed = await place(alice.access_token, randomUUID(), {
        lines: [{ productId: id, quantity: 2 }],
      });
      expect(placed.status).toBe(202);
      const orderId = (placed.body as { orderId: string }).orderId;
      const detail = await waitUntil(
        async () => {
          const answer = await http<OrderDetail>(`${gw}/v1/orders/${orderId}`, { token: alice.access_token });
          return answer.body.order.status === 'CONFIRMED' ? answer : undefined;
        },
        { timeoutMs: 30_000, what: 'the order to be confirmed' },
      );
      expect(detail.body.payment).toMatchObject({
        status: 'ok',
        data: { amount: { amountMinor: 2_500, currency: 'EUR' } },
      });
      expect(detail.body.reservation).toMatchObject({
        status: 'ok',
        data: { lines: [{ productId: id, quantity: 2 }] },
      });
    });

    it('one trace per order: all four services and every Kafka hop, in causal order (confirmed and compensated)', async () => {
      const traceOf = async (
        lines: { productId: string; quantity: number }[],
        end: string,
        needs?: (span: ZipkinSpan) => boolean,
        afterPlaced?: () => Promise<unknown>,
      ): Promise<ZipkinSpan[]> => {
        const placed = await place(alice.access_token, randomUUID(), { lines });
        expect(placed.status).toBe(202);
        await afterPlaced?.();
        const traceId = placed.headers.get('x-trace-id');
        expect(traceId).toMatch(/^[0-9a-f]{32}$/);
        const orderId = (placed.body as { orderId: string }).orderId;
        await waitUntil(
          async () =>
            (await http<OrderDetail>(`${gw}/v1/orders/${orderId}`, { token: alice.access_token })).body.order
              .status === end,
          { timeoutMs: 30_000, what: `the order to be ${end}` },
        );
        // Spans leave each service in batches (every few seconds): wait until the last hop has arrived.
        return waitUntil(
          async () => {
            const answer = await fetch(`${requireEnv('ZIPKIN_URL')}/api/v2/trace/${traceId}`);
            const spans = answer.ok ? ((await answer.json()) as ZipkinSpan[]) : [];
            const processed = spans
              .filter((s) => s.kind === 'CONSUMER')
              .map((s) => s.tags?.['saga.message.type']);
            // Each service exports on its own schedule: wait for every hop this outcome must have.
            const due =
              end === 'CONFIRMED'
                ? ['payment.CapturePayment', 'payment.PaymentCaptured']
                : ['inventory.ReleaseStock', 'inventory.StockReleased'];
            // …and every process span's parent (the publish, from another service's batch) has arrived too.
            const ids = new Set(spans.map((s) => s.id));
            const whole = spans.filter((s) => s.kind === 'CONSUMER').every((s) => ids.has(s.parentId ?? ''));
            return due.every((hop) => processed.includes(hop)) && whole && (!needs || spans.some(needs))
              ? spans
              : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 500, what: `the ${end} order's trace in Zipkin` },
        );
      };
      const hops = (spans: ZipkinSpan[]): string[] =>
        spans
          .filter((s) => s.kind === 'CONSUMER')
          .sort((a, b) => a.timestamp - b.timestamp)
          .map((s) => String(s.tags?.['saga.message.type']));
      const causal = (spans: ZipkinSpan[]): void => {
        expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
        const byId = new Map(spans.map((s) => [s.id, s]));
        for (const consume of spans.filter((s) => s.kind === 'CONSUMER')) {
          // Every consume hangs under the publish of the same message, which happened before it.
          const publish = byId.get(consume.parentId ?? '');
          expect({ consume: consume.tags?.['saga.message.type'], parent: publish?.kind }).toEqual({
            consume: consume.tags?.['saga.message.type'],
            parent: 'PRODUCER',
          });
          expect(publish?.tags?.['messaging.message.id']).toBe(consume.tags?.['messaging.message.id']);
          expect(publish?.timestamp ?? Infinity).toBeLessThanOrEqual(consume.timestamp);
        }
      };

      const confirmed = await traceOf([{ productId: await product(10, 1_000), quantity: 1 }], 'CONFIRMED');
      expect(new Set(confirmed.map((s) => s.localEndpoint?.serviceName))).toEqual(
        new Set(['gateway', 'order', 'inventory', 'payment']),
      );
      expect(hops(confirmed)).toEqual([
        'inventory.ReserveStock',
        'inventory.StockReserved',
        'payment.AuthorizePayment',
        'payment.PaymentAuthorized',
        'payment.CapturePayment',
        'payment.PaymentCaptured',
      ]);
      expect(
        confirmed.some(
          (s) => s.tags?.['db.system.name'] === 'postgresql' || s.tags?.['db.system'] === 'postgresql',
        ),
      ).toBe(true);
      causal(confirmed);
      // HTTP server spans are named by their route: the gateway's, and the order service's it called.
      const routes = confirmed
        .filter((s) => s.kind === 'SERVER')
        .map((s) => `${s.localEndpoint?.serviceName} ${s.tags?.['http.route']}`);
      expect(routes).toEqual(expect.arrayContaining(['gateway /v1/orders', 'order /orders']));
      // The order's log lines are found in every service by its trace id.
      const traceId = confirmed[0]?.traceId ?? '';
      // …and the order's detail links to the trace.
      const orderId = confirmed.find((s) => s.tags?.['order.id'])?.tags?.['order.id'];
      const detail = await http<OrderDetail & { trace: { traceId: string; url: string | null } }>(
        `${gw}/v1/orders/${orderId}`,
        { token: alice.access_token },
      );
      expect(detail.body.trace).toEqual({
        traceId,
        url: `${requireEnv('ZIPKIN_URL')}/zipkin/traces/${traceId}`,
      });
      for (const service of [gateway, order, inventory, payment])
        expect({
          service: service?.name,
          logged: service?.output().includes(`"traceId":"${traceId}"`),
        }).toEqual({
          service: service?.name,
          logged: true,
        });

      const setProviderFaults = (faults: Record<string, number>): Promise<Response> =>
        fetch(`${payment?.url}/provider/faults`, {
          method: 'PUT',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(faults),
        });
      // Payment declined: the compensation (release the stock) is in the same trace.
      await setProviderFaults({ declineRate: 1 });
      try {
        const cancelled = await traceOf([{ productId: await product(10, 1_000), quantity: 1 }], 'CANCELLED');
        expect(hops(cancelled)).toEqual([
          'inventory.ReserveStock',
          'inventory.StockReserved',
          'payment.AuthorizePayment',
          'payment.PaymentDeclined',
          'inventory.ReleaseStock',
          'inventory.StockReleased',
        ]);
        causal(cancelled);
      } finally {
        await setProviderFaults({ declineRate: 0 });
      }

      // The provider times out past the step's deadline: the reaper compensates, inside the saga's trace (the
      // fault heals after the deadline, so the compensation can go through).
      await setProviderFaults({ timeoutRate: 1 });
      try {
        const reaped = await traceOf(
          [{ productId: await product(10, 1_000), quantity: 1 }],
          'CANCELLED',
          (span) => span.tags?.['saga.message.type'] === 'payment.VoidOrRefundPayment',
          async () => {
            await sleep(6_500); // the authorize deadline (5 s) and one reaper round
            await setProviderFaults({ timeoutRate: 0 });
          },
        );
        const deadline = reaped.find((s) => s.name === 'saga deadline');
        expect(deadline?.localEndpoint?.serviceName).toBe('order');
        expect(deadline?.tags).toMatchObject({
          'saga.step.previous': 'AUTHORIZING_PAYMENT',
          'saga.step': 'VOIDING_OR_REFUNDING_PAYMENT',
        });
        expect(hops(reaped)).toEqual(
          expect.arrayContaining(['payment.VoidOrRefundPayment', 'inventory.ReleaseStock']),
        );
        causal(reaped);
      } finally {
        await setProviderFaults({ timeoutRate: 0 });
      }
    }, 120_000);

    it('never logs a password, an access token or a refresh token (the auth flows ran above)', async () => {
      const fresh = await login(gw, 'bob');
      const secrets = [
        ...USERS.map((u) => u.password),
        alice.access_token,
        alice.refresh_token,
        fresh.access_token,
        fresh.refresh_token,
      ];
      for (const service of [gateway, order, inventory, payment])
        for (const secret of secrets) expect(service?.output().includes(secret)).toBe(false);
      expect(gateway.output()).toContain('"msg":"request"');
    });

    it('the saga services report sagas by state, the oldest in flight, outbox backlog, consumer lag, DLQ depth and pool', async () => {
      // Orders were confirmed and compensated above; every gauge is read from the database or Kafka on scrape.
      expect(
        await metric(order.url, 'saga_lab_sagas', { saga: 'place-order', state: 'CONFIRMED' }),
      ).toBeGreaterThan(0);
      expect(await metric(order.url, 'saga_lab_sagas', { state: 'CANCELLED' })).toBeGreaterThan(0);
      const scrape = async (url: string): Promise<string> => (await fetch(`${url}/metrics`)).text();
      for (const service of [order, inventory, payment]) {
        const text = await scrape(service?.url ?? '');
        for (const series of [
          'saga_lab_outbox_backlog{',
          'saga_lab_kafka_consumer_lag{',
          'saga_lab_dlq_depth{',
          'saga_lab_db_pool_connections{state="in_use"',
          'nodejs_eventloop_lag_seconds{',
        ])
          expect({ service: service?.name, has: text.includes(series) }).toEqual({
            service: service?.name,
            has: true,
          });
      }
      expect(await scrape(order.url)).toMatch(/^saga_lab_saga_oldest_inflight_age_seconds\{[^}]*\} \d/m);
    });

    it('RBAC and ownership: another customer’s order is a 404, admins see it, admins cannot order', async () => {
      const id = await product();
      const placed = await place(alice.access_token, randomUUID(), {
        lines: [{ productId: id, quantity: 1 }],
      });
      const orderId = (placed.body as { orderId: string }).orderId;
      expectError(
        await http(`${gw}/v1/orders/${orderId}`, { token: bob.access_token }),
        404,
        'ORDER_NOT_FOUND',
      );
      expect((await http(`${gw}/v1/orders/${orderId}`, { token: root.access_token })).status).toBe(200);
      const bobs = await http<{ items: { customerId: string }[] }>(`${gw}/v1/orders`, {
        token: bob.access_token,
      });
      expect(bobs.body.items.every((o) => o.customerId === 'c-e2e-bob')).toBe(true);
      expectError(
        await http(`${gw}/v1/orders?customerId=c-e2e-alice`, { token: bob.access_token }),
        403,
        'FORBIDDEN',
      );
      const alices = await http<{ items: { orderId: string; customerId: string }[] }>(
        `${gw}/v1/orders?customerId=c-e2e-alice&limit=100`,
        { token: root.access_token },
      );
      expect(alices.body.items.some((o) => o.orderId === orderId)).toBe(true);
      expect(alices.body.items.every((o) => o.customerId === 'c-e2e-alice')).toBe(true);
      expectError(
        await place(root.access_token, randomUUID(), { lines: [{ productId: id, quantity: 1 }] }),
        403,
        'FORBIDDEN',
      );
      expectError(
        await http(`${gw}/v1/orders/not-a-uuid`, { token: alice.access_token }),
        404,
        'ORDER_NOT_FOUND',
      );
      expectError(
        await http(`${gw}/v1/orders/${randomUUID()}`, { token: alice.access_token }),
        404,
        'ORDER_NOT_FOUND',
      );
    });

    it('answers bad input with 400/413/415/422 in the error format, never a 5xx', async () => {
      const token = alice.access_token;
      expectError(
        await http(`${gw}/v1/orders`, { method: 'POST', token, body: { lines: [] } }),
        400,
        'IDEMPOTENCY_KEY_REQUIRED',
      );
      expectError(await place(token, randomUUID(), { lines: [] }), 400, 'VALIDATION_FAILED');
      expectError(
        await place(token, randomUUID(), { lines: [{ productId: 'espresso-beans', quantity: 1 }], extra: 1 }),
        400,
        'VALIDATION_FAILED',
      );
      expectError(await place(token, randomUUID(), '{"lines": ['), 400, 'BAD_REQUEST');
      expectError(
        await place(token, 'bad key with spaces', { lines: [{ productId: 'espresso-beans', quantity: 1 }] }),
        400,
        'INVALID_IDEMPOTENCY_KEY',
      );
      expectError(
        await place(token, randomUUID(), { lines: [{ productId: 'no-such-product-here', quantity: 1 }] }),
        422,
        'UNKNOWN_PRODUCT',
      );
      const text = await http(`${gw}/v1/orders`, {
        method: 'POST',
        token,
        body: 'lines',
        headers: { 'content-type': 'text/plain', 'idempotency-key': randomUUID() },
      });
      expect(text.status).toBe(415);
      const huge = await place(token, randomUUID(), {
        lines: [{ productId: 'x'.repeat(40_000), quantity: 1 }],
      });
      expect(huge.status).toBe(413);
      expectError(await http(`${gw}/v1/nowhere`, { token }), 404, 'NOT_FOUND');
    });
  });

  describe('the edge', () => {
    it('answers what Fastify and Node refuse before any route in the error format too (404, 431, 413)', async () => {
      const token = alice.access_token;
      // An id longer than any path segment the router accepts cannot exist: 404, not Fastify's own 414.
      expectError(await http(`${gw}/v1/products/${'p'.repeat(101)}`, { token }), 404, 'NOT_FOUND');
      // Headers over Node's 16 KB: its parser answers before Fastify runs; the answer is still ours.
      const big = await rawHttp(gw, { path: '/v1/products', headers: { 'x-filler': 'f'.repeat(20_000) } });
      expect(big.status).toBe(431);
      expect(JSON.parse(big.body)).toEqual({
        error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String), correlationId: expect.any(String) },
      });
      // A client still streaming a 2 MB body reads the 413 instead of losing it to a reset connection.
      const upload = await rawHttp(gw, {
        method: 'POST',
        path: '/v1/orders',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': randomUUID(),
        },
        bodyBytes: 2 * 1024 * 1024,
      });
      expect(upload.status).toBe(413);
      expect(JSON.parse(upload.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    });

    it('sets security headers, and answers CORS preflights for allowed origins only', async () => {
      const answer = await http(`${gw}/v1/products/espresso-beans`, { token: alice.access_token });
      expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
      expect(answer.headers.get('strict-transport-security')).toContain('max-age=');
      expect(answer.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(answer.headers.get('x-correlation-id')).toEqual(expect.any(String));
      const preflight = (origin: string): Promise<Answer> =>
        http(`${gw}/v1/orders`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,idempotency-key',
          },
        });
      const allowed = await preflight('https://shop.example');
      expect(allowed.status).toBe(204);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
      expect(allowed.headers.get('access-control-allow-headers')).toContain('idempotency-key');
      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('publishes its OpenAPI document at /docs with examples and error responses', async () => {
      const spec = await http<{
        paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      }>(`${gw}/docs/openapi.json`);
      expect(spec.status).toBe(200);
      const post = spec.body.paths['/v1/orders']?.['post'];
      expect(Object.keys(post?.responses ?? {})).toEqual(
        expect.arrayContaining(['202', '400', '401', '403', '409', '422', '429', '503']),
      );
      expect(JSON.stringify(post)).toContain('"example"');
      expect((await fetch(`${gw}/docs`)).status).toBe(200);
    });
  });

  describe.each(['exact', 'approximate'])('rate limiting (%s mode)', (mode) => {
    let limited: ServiceProcess;
    beforeAll(async () => {
      limited = await startGateway({
        GATEWAY_RATE_LIMIT_MODE: mode,
        GATEWAY_RATE_LIMIT_USER: '5:5',
        GATEWAY_RATE_LIMIT_AUTH: '3:1',
        GATEWAY_RATE_LIMIT_SYNC_MS: '50',
      });
    }, 60_000);
    afterAll(() => limited?.stop());

    it('answers 429 with RateLimit-* and Retry-After once the burst is spent, then recovers', async () => {
      // Each mode gets users of its own bucket: a session for alice, on keys no other test uses.
      await new Promise((resolve) => setTimeout(resolve, 1_200)); // a full bucket (5 tokens at 5/s)
      const token = (await login(limited.url, 'bob')).access_token;
      const answers: Answer[] = [];
      for (let i = 0; i < 8; i++)
        answers.push(await http(`${limited.url}/v1/products/espresso-beans`, { token }));
      const statuses = answers.map((a) => a.status);
      expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(5);
      expect(statuses.filter((s) => s === 200).length).toBeLessThanOrEqual(6); // one may refill meanwhile
      const refused = answers.find((a) => a.status === 429);
      expect(refused).toBeDefined();
      if (!refused) return;
      expectError(refused, 429, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(refused.headers.get('ratelimit-limit')).toBe('5');
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('ratelimit-policy')).toContain('policy="user"');
      expect(answers[0]?.headers.get('ratelimit-remaining')).toBe('4');

      await new Promise((resolve) => setTimeout(resolve, retryAfter * 1_000));
      expect((await http(`${limited.url}/v1/products/espresso-beans`, { token })).status).toBe(200);
    });

    it('limits the auth routes harder, per client address', async () => {
      const attempt = (): Promise<Answer> =>
        http(`${limited.url}/v1/auth/token`, {
          method: 'POST',
          body: { grant_type: 'password', username: 'alice', password: 'guess-guess' },
        });
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) statuses.push((await attempt()).status);
      expect(statuses).toContain(401);
      expect(statuses).toContain(429);
      expect(statuses.indexOf(429)).toBeGreaterThanOrEqual(2);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await attempt()).status).toBe(401);
    });
  });

  describe('the OpenAPI contract', () => {
    it('survives a property-based fuzz of every operation: no 5xx, every answer as documented', async () => {
      const seed = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 1_000_000));
      // Property-based: valid and invalid requests for every operation, and stateful sequences along its links.
      const outcome = await runSchemathesis({
        specUrl: `${gw}/docs/openapi.json`,
        bearerToken: (await login(gw, 'alice')).access_token,
        seed,
        maxExamples: 25,
      });
      // The full run (operations, cases, any failure with its curl reproduction) is kept for reading.
      const log = path.join(__dirname, '../../../dist/test-results/gateway-openapi-fuzz.txt');
      mkdirSync(path.dirname(log), { recursive: true });
      writeFileSync(log, `FUZZ_SEED=${seed}\n${outcome.output}`);
      expect(outcome.output).toMatch(/Operations:\s+\d+ selected \/ \d+ total/);
      expect(outcome.failures).toEqual([]);
      expect(outcome.exitCode).toBe(0);
    }, 300_000);
  });

  describe('towards the services', () => {
    it('spreads calls over a second inventory instance, and stops using one that died within the check interval', async () => {
      const second = await startInventory();
      try {
        const instances = async (): Promise<string[]> =>
          (await http<{ inventory: { instances: string[] } }>(`${gw}/health/dependencies`)).body.inventory
            .instances;
        await waitUntil(async () => (await instances()).length === 2 || undefined, {
          timeoutMs: 15_000,
          what: 'two inventory instances',
        });
        const ids = await instances();
        const before = await Promise.all(
          ids.map((instance) =>
            metric(gw, 'gateway_upstream_requests_total', { service: 'inventory', instance }),
          ),
        );
        for (let i = 0; i < 20; i++)
          expect((await http(`${gw}/v1/products?limit=1`, { token: alice.access_token })).status).toBe(200);
        const after = await Promise.all(
          ids.map((instance) =>
            metric(gw, 'gateway_upstream_requests_total', { service: 'inventory', instance }),
          ),
        );
        const spread = after.map((n, i) => n - (before[i] ?? 0));
        expect(spread.every((n) => n >= 8)).toBe(true); // round robin: 10 / 10 give or take

        await second.stop('SIGKILL'); // no deregistration: only the failing health check tells
        const killedAt = Date.now();
        const statuses: number[] = [];
        await waitUntil(
          async () => {
            statuses.push((await http(`${gw}/v1/products?limit=1`, { token: alice.access_token })).status);
            return (await instances()).length === 1 || undefined;
          },
          { timeoutMs: 10_000, intervalMs: 100, what: 'the dead instance to leave the list' },
        );
        expect(Date.now() - killedAt).toBeLessThan(2_000 + 1_000 + 1_500); // check interval + timeout + watch
        expect(statuses.every((s) => s === 200)).toBe(true); // idempotent reads were retried on the live one
      } finally {
        await second.stop();
      }
    });

    it('opens the payment breaker when payment is down (sections degrade), half-opens and closes on recovery', async () => {
      const id = await product();
      const placed = await place(alice.access_token, randomUUID(), {
        lines: [{ productId: id, quantity: 1 }],
      });
      const orderId = (placed.body as { orderId: string }).orderId;
      const breaker = async (): Promise<string> =>
        (await http<{ payment: { breaker: string } }>(`${gw}/health/dependencies`)).body.payment.breaker;

      await payment?.stop('SIGKILL');
      payment = undefined;
      const degraded = await waitUntil(
        async () => {
          const answer = await http<OrderDetail>(`${gw}/v1/orders/${orderId}`, { token: alice.access_token });
          return answer.status === 200 && (await breaker()) === 'open' ? answer : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, what: 'the payment breaker to open' },
      );
      expect(degraded.body.order.orderId).toBe(orderId); // the order itself still answers
      expect(degraded.body.payment).toMatchObject({
        status: 'unavailable',
        error: { code: 'DEPENDENCY_UNAVAILABLE' },
      });
      expect(degraded.body.reservation.status).not.toBe('unavailable');
      expect(await metric(gw, 'gateway_circuit_breaker_state', { dependency: 'payment' })).toBe(1);

      payment = await startPayment();
      await waitUntil(
        async () => {
          await http(`${gw}/v1/orders/${orderId}`, { token: alice.access_token });
          return (await breaker()) === 'closed' || undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the payment breaker to close again' },
      );
      expect(
        await metric(gw, 'gateway_circuit_breaker_transitions_total', {
          dependency: 'payment',
          to: 'half-open',
        }),
      ).toBeGreaterThan(0);
      const recovered = await http<OrderDetail>(`${gw}/v1/orders/${orderId}`, { token: alice.access_token });
      expect(recovered.body.payment.status).not.toBe('unavailable');
    });

    it('fails fast with 503 + Retry-After when the order service is down', async () => {
      await order.stop('SIGKILL');
      try {
        const answer = await waitUntil(
          async () => {
            const a = await http(`${gw}/v1/orders`, { token: alice.access_token });
            return a.status === 503 ? a : undefined;
          },
          { timeoutMs: 15_000, what: 'a 503' },
        );
        expectError(answer, 503, 'DEPENDENCY_UNAVAILABLE');
        expect(Number(answer.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      } finally {
        order = await startOrder(inventory.url);
      }
    });
  });
});
