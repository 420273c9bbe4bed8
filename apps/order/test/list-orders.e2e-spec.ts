import { requireEnv, startServiceProcess, uniqueName, type ServiceProcess } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';

/**
 * GET /orders, the list the gateway pages through, on the order service running as a process against its
 * real database. The orders are written straight into the table (REJECTED, so no stock or money invariant
 * involves them) with creation times chosen to the microsecond, and deleted afterwards.
 */
interface OrderView {
  orderId: string;
  customerId: string;
}
interface PageView {
  items: OrderView[];
  nextCursor: string | null;
}

describe('listing orders, end to end', () => {
  let order: ServiceProcess;
  let db: Client;
  const customers: string[] = [];

  beforeAll(async () => {
    order = await startServiceProcess('order', 'apps/order/src/main.ts', {
      KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
      CONSUL_HTTP_ADDR: requireEnv('CONSUL_HTTP_ADDR'),
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ORDER_DATABASE_URL: requireEnv('ORDER_DATABASE_URL'),
      ORDER_PORT: '0',
    });
    db = new Client({ connectionString: requireEnv('ORDER_DATABASE_URL') });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    if (customers.length > 0) await db?.query('DELETE FROM orders WHERE customer_id = ANY($1)', [customers]);
    await db?.end();
    await order?.stop();
  });

  const customer = (): string => {
    const id = uniqueName('c-list');
    customers.push(id);
    return id;
  };
  /** Inserts orders; `createdAt` is an SQL expression (a literal time, or now() for "the newest"). */
  async function insert(rows: { customerId: string; createdAt: string }[]): Promise<string[]> {
    const ids = rows.map(() => randomUUID());
    await db.query(
      `INSERT INTO orders (order_id, customer_id, lines, total_minor, currency, status, status_reason, created_at)
       SELECT id, customer_id, '[{"productId":"list-fixture","quantity":1}]', 100, 'EUR', 'REJECTED', 'test fixture',
              CASE WHEN created_at = 'now' THEN now() ELSE created_at::timestamptz END
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, customer_id, created_at)`,
      [ids, rows.map((r) => r.customerId), rows.map((r) => r.createdAt)],
    );
    return ids;
  }
  const list = async (query: string): Promise<{ status: number; body: PageView }> => {
    const response = await fetch(`${order.url}/orders?${query}`);
    return { status: response.status, body: (await response.json()) as PageView };
  };
  async function all(query: string, limit: number): Promise<{ ids: string[]; pages: number[] }> {
    const ids: string[] = [];
    const pages: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(`${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      ids.push(...page.body.items.map((o) => o.orderId));
      pages.push(page.body.items.length);
      cursor = page.body.nextCursor;
    } while (cursor);
    return { ids, pages };
  }

  it("pages through a customer's orders newest first, ties and microseconds included", async () => {
    const mine = customer();
    const other = customer();
    // Five orders within one millisecond (three in the same microsecond), one an hour earlier; a bound
    // truncated to milliseconds, or one without the id, would skip or repeat some of them.
    const times = [
      '2020-01-01T12:00:00.000500Z',
      '2020-01-01T12:00:00.000500Z',
      '2020-01-01T12:00:00.000500Z',
      '2020-01-01T12:00:00.000499Z',
      '2020-01-01T12:00:00.000501Z',
      '2020-01-01T11:00:00.000000Z',
    ];
    const ids = await insert(times.map((createdAt) => ({ customerId: mine, createdAt })));
    await insert([{ customerId: other, createdAt: '2020-01-01T12:00:00.000500Z' }]);
    const newestFirst = ids
      .map((id, i) => ({ id, at: times[i] ?? '' }))
      .sort((a, b) => (a.at === b.at ? (a.id < b.id ? 1 : -1) : a.at < b.at ? 1 : -1))
      .map((o) => o.id);

    for (const limit of [1, 2, 4, 6]) {
      const { ids: seen, pages } = await all(`customerId=${mine}`, limit);
      expect({ limit, seen }).toEqual({ limit, seen: newestFirst });
      expect(pages.at(-1)).toBeGreaterThan(0); // a full last page says it is the last: no empty page
    }
    const first = await list(`customerId=${mine}&limit=1`);
    expect(first.body.items).toEqual([
      {
        orderId: newestFirst[0],
        customerId: mine,
        lines: [{ productId: 'list-fixture', quantity: 1 }],
        total: { amountMinor: 100, currency: 'EUR' },
        status: 'REJECTED',
        statusReason: 'test fixture',
        traceId: null, // a fixture inserted by SQL was placed in no trace
        createdAt: '2020-01-01T12:00:00.000Z',
        updatedAt: expect.any(String),
      },
    ]);
    await expect(list(`customerId=${customer()}`)).resolves.toEqual({
      status: 200,
      body: { items: [], nextCursor: null },
    });
  });

  it("without customerId, everyone's orders, newest first, 20 to a page by default", async () => {
    const [a, b] = [customer(), customer()];
    const newest = await insert([
      { customerId: a, createdAt: 'now' },
      { customerId: b, createdAt: 'now' },
      { customerId: a, createdAt: 'now' },
    ]);
    const expected = (
      await db.query('SELECT order_id FROM orders ORDER BY created_at DESC, order_id DESC LIMIT 25')
    ).rows.map((r: { order_id: string }) => r.order_id);
    expect(expected.slice(0, 3)).toEqual([...newest].sort().reverse());

    const first = await list('');
    expect(first.body.items.map((o) => o.orderId)).toEqual(expected.slice(0, 20));
    expect(new Set(first.body.items.slice(0, 3).map((o) => o.customerId))).toEqual(new Set([a, b]));
    if (expected.length > 20) {
      const second = await list(`limit=5&cursor=${first.body.nextCursor ?? ''}`);
      expect(second.body.items.map((o) => o.orderId)).toEqual(expected.slice(20, 25));
    } else {
      expect(first.body.nextCursor).toBeNull();
    }
  });

  it('refuses a bad limit, customerId or cursor with a 400 in the one error format', async () => {
    const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
    const id = randomUUID();
    const cases: [string, string][] = [
      ['limit=0', 'VALIDATION_FAILED'],
      ['limit=101', 'VALIDATION_FAILED'],
      ['limit=ten', 'VALIDATION_FAILED'],
      ['limit=2.5', 'VALIDATION_FAILED'],
      ['customerId=', 'VALIDATION_FAILED'],
      [`customerId=${'c'.repeat(101)}`, 'VALIDATION_FAILED'],
      ['customerId=a&customerId=b', 'VALIDATION_FAILED'],
      ['customerID=a', 'VALIDATION_FAILED'], // a misspelt filter must not widen the list to everyone's
      ['cursor=garbage', 'INVALID_CURSOR'],
      [`cursor=${cursorOf(['2020-01-01T12:00:00.000500Z'])}`, 'INVALID_CURSOR'],
      [`cursor=${cursorOf(['2020-01-01T12:00:00.000Z', id])}`, 'INVALID_CURSOR'],
      [`cursor=${cursorOf(['2020-02-30T12:00:00.000000Z', id])}`, 'INVALID_CURSOR'],
      [`cursor=${cursorOf(['2020-01-01T24:00:00.000000Z', id])}`, 'INVALID_CURSOR'],
      [`cursor=${cursorOf(['0000-01-01T00:00:00.000000Z', id])}`, 'INVALID_CURSOR'],
      [`cursor=${cursorOf(['2020-01-01T12:00:00.000500Z', 'not-a-uuid'])}`, 'INVALID_CURSOR'],
    ];
    for (const [query, code] of cases) {
      const response = await fetch(`${order.url}/orders?${query}`);
      const body = (await response.json()) as { error?: { code: string; correlationId: string } };
      expect({ query, status: response.status, code: body.error?.code }).toEqual({
        query,
        status: 400,
        code,
      });
      expect(body.error?.correlationId).toEqual(expect.any(String));
    }
  });
});
