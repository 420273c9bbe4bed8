import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import { messagingMigrations } from '@saga-lab/messaging';
import { requireEnv, serveControllers, testSchema } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CatalogController } from '../src/api/catalog.controller';
import { ReservationsController } from '../src/api/reservations.controller';
import { updateProduct } from '../src/domain/products';
import { releaseStock, reserveStock } from '../src/domain/reservations';
import { Inventory1732500000000 } from '../src/infra/migrations/1732500000000-inventory';
import { INVENTORY_HTTP_STATUSES } from '../src/api/http-statuses';

/**
 * The internal HTTP API the gateway calls, against real PostgreSQL in a schema of its own (so pages are
 * exact). Only the controllers are mounted, without Kafka or Consul: no consumer of this instance can take
 * commands meant for a running service, and no registration can route the gateway here.
 */
/** What the tests read from a response; the assertions check the rest. */
interface Body {
  readonly items?: { productId: string }[];
  readonly nextCursor?: string | null;
  readonly error?: { code: string; correlationId: string };
  readonly [field: string]: unknown;
}
type Reply = { status: number; body: Body };

describe('inventory internal API (real PostgreSQL)', () => {
  const url = requireEnv('INVENTORY_DATABASE_URL');
  const schema = testSchema(url, 'inv_api');
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [...messagingMigrations, Inventory1732500000000],
    poolSize: 5,
    extra: { options: schema.connectionOptions.options },
  });
  let app: INestApplication;
  let base: string;

  const get = async (path: string): Promise<Reply> => {
    const response = await fetch(`${base}${path}`);
    return { status: response.status, body: (await response.json()) as Body };
  };
  const patch = async (path: string, body: string, headers: Record<string, string> = {}): Promise<Reply> => {
    const response = await fetch(`${base}${path}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const addProduct = (productId: string, available = 10): Promise<unknown> =>
    dataSource.query(
      `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ($1, $1, 1000, 'EUR', $2)`,
      [productId, available],
    );
  const events = async (productId: string): Promise<{ correlationId: string; payload: unknown }[]> =>
    (
      (await dataSource.query(
        `SELECT envelope FROM outbox WHERE type = 'inventory.ProductUpdated' AND message_key = $1 ORDER BY created_at`,
        [productId],
      )) as { envelope: { correlationId: string; payload: unknown } }[]
    ).map((r) => r.envelope);

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    ({ app, url: base } = await serveControllers(
      [CatalogController, ReservationsController],
      [{ provide: DataSource, useValue: dataSource }],
      INVENTORY_HTTP_STATUSES,
    ));
  });
  beforeEach(async () => {
    await dataSource.query('TRUNCATE products, reservations, outbox');
  });
  afterAll(async () => {
    await app?.close();
    await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
    await dataSource.destroy();
  });

  describe('GET /products', () => {
    it('pages through the catalog in product id order; the last page has no next cursor', async () => {
      const ids = ['apple', 'banana', 'cherry', 'damson', 'elder', 'fig', 'grape'];
      for (const id of ids) await addProduct(id);

      const seen: string[] = [];
      const pages: number[] = [];
      let cursor: string | null = null;
      do {
        const page = await get(`/products?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
        expect(page.status).toBe(200);
        seen.push(...(page.body.items ?? []).map((p) => p.productId));
        pages.push(page.body.items?.length ?? 0);
        cursor = page.body.nextCursor ?? null;
      } while (cursor);
      expect(seen).toEqual(ids);
      expect(pages).toEqual([3, 3, 1]);

      // A page that ends exactly at the end of the catalog says so: no empty page to fetch.
      await expect(get('/products?limit=7')).resolves.toMatchObject({ body: { nextCursor: null } });
      const all = await get('/products');
      expect(all.body).toEqual({
        items: expect.arrayContaining([
          {
            productId: 'apple',
            name: 'apple',
            price: { amountMinor: 1000, currency: 'EUR' },
            available: 10,
            version: 1,
          },
        ]),
        nextCursor: null,
      });
      expect(all.body.items).toHaveLength(7);
    });

    it('defaults to 20 per page, and a cursor is a position: products added before it do not shift the next page', async () => {
      const ids = Array.from({ length: 25 }, (_, i) => `item-${String(i).padStart(2, '0')}`);
      for (const id of ids) await addProduct(id);
      const first = await get('/products');
      expect(first.body.items).toHaveLength(20);
      await addProduct('aaa-newcomer'); // sorts before the cursor
      const second = await get(`/products?cursor=${first.body.nextCursor ?? ''}`);
      expect(second.body.items?.map((p) => p.productId)).toEqual(ids.slice(20));
      expect(second.body.nextCursor).toBeNull();
    });

    it('rejects a bad limit or cursor with a 400 in the one error format', async () => {
      const cursorOf = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
      const cases: [string, string][] = [
        ['limit=0', 'VALIDATION_FAILED'],
        ['limit=101', 'VALIDATION_FAILED'],
        ['limit=abc', 'VALIDATION_FAILED'],
        ['limit=1.5', 'VALIDATION_FAILED'],
        ['limit=-1', 'VALIDATION_FAILED'],
        ['limit=1e1', 'VALIDATION_FAILED'],
        ['limit=', 'VALIDATION_FAILED'],
        ['limit=1&limit=2', 'VALIDATION_FAILED'],
        ['sort=name', 'VALIDATION_FAILED'],
        ['cursor=', 'VALIDATION_FAILED'],
        [`cursor=${'a'.repeat(600)}`, 'VALIDATION_FAILED'],
        ['cursor=not-a-cursor', 'INVALID_CURSOR'],
        ['cursor=%00', 'INVALID_CURSOR'],
        [`cursor=${cursorOf(['Not A Slug'])}`, 'INVALID_CURSOR'],
        [`cursor=${cursorOf(['ok\u0000'])}`, 'INVALID_CURSOR'],
        [`cursor=${cursorOf({ after: 'apple' })}`, 'INVALID_CURSOR'],
      ];
      for (const [query, code] of cases) {
        const response = await get(`/products?${query}`);
        expect({ query, status: response.status, code: response.body.error?.code }).toEqual({
          query,
          status: 400,
          code,
        });
        expect(response.body.error?.correlationId).toEqual(expect.any(String));
      }
    });
  });

  describe('GET /products/:productId', () => {
    it('answers 404 for an unknown product or a malformed id, never a 5xx', async () => {
      await addProduct('kettle');
      await expect(get('/products/kettle')).resolves.toMatchObject({
        status: 200,
        body: { productId: 'kettle' },
      });
      for (const id of ['teapot', 'Kettle', 'k%00', '%E2%98%95'])
        await expect(get(`/products/${id}`)).resolves.toMatchObject({
          status: 404,
          body: { error: { code: 'PRODUCT_NOT_FOUND' } },
        });
    });
  });

  describe('PATCH /products/:productId', () => {
    it('changes the name or the price, bumps the version and stages ProductUpdated with the change', async () => {
      await addProduct('grinder', 7);
      const renamed = await patch('/products/grinder', '{"name": "Hand grinder, steel burrs"}', {
        'x-correlation-id': 'corr-rename',
      });
      expect(renamed).toEqual({
        status: 200,
        body: {
          productId: 'grinder',
          name: 'Hand grinder, steel burrs',
          price: { amountMinor: 1000, currency: 'EUR' },
          available: 7,
          version: 2,
        },
      });
      const repriced = await patch('/products/grinder', '{"price": {"amountMinor": 8900}}');
      expect(repriced.body).toMatchObject({
        name: 'Hand grinder, steel burrs',
        price: { amountMinor: 8900, currency: 'EUR' },
        version: 3,
      });
      const both = await patch('/products/grinder', '{"name": "Grinder", "price": {"amountMinor": 0}}');
      expect(both.body).toMatchObject({ name: 'Grinder', price: { amountMinor: 0 }, version: 4 });
      await expect(get('/products/grinder')).resolves.toMatchObject({ body: both.body });

      const staged = await events('grinder');
      expect(staged.map((e) => e.payload)).toEqual([renamed.body, repriced.body, both.body]);
      expect(staged[0]?.correlationId).toBe('corr-rename');
    });

    it('refuses bad input with a 400 and changes nothing', async () => {
      await addProduct('mug');
      const bodies = [
        '{}',
        '{"price": {"amountMinor": 100, "currency": "USD"}}',
        '{"price": {"currency": "USD"}}',
        '{"price": {"amountMinor": -1}}',
        '{"price": {"amountMinor": 1.5}}',
        '{"price": {"amountMinor": "100"}}',
        '{"price": {"amountMinor": 1e20}}',
        '{"price": null}',
        '{"name": ""}',
        '{"name": "   "}',
        `{"name": "${'x'.repeat(201)}"}`,
        '{"name": "nul\\u0000"}',
        '{"name": 42}',
        '{"name": "Mug", "available": 1000}',
        '[]',
        'null',
        '"Mug"',
      ];
      for (const body of bodies) {
        const response = await patch('/products/mug', body);
        expect({ body, status: response.status, code: response.body.error?.code }).toEqual({
          body,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
      await expect(patch('/products/mug', '{"name": ')).resolves.toMatchObject({ status: 400 });
      await expect(get('/products/mug')).resolves.toMatchObject({ body: { name: 'mug', version: 1 } });
      await expect(events('mug')).resolves.toEqual([]);
    });

    it('answers 404 for an unknown product or a malformed id', async () => {
      for (const id of ['no-such-product', 'Bad_Slug', 'x', '%00'])
        await expect(patch(`/products/${id}`, '{"name": "New"}')).resolves.toMatchObject({
          status: 404,
          body: { error: { code: 'PRODUCT_NOT_FOUND' } },
        });
      expect(await dataSource.query('SELECT * FROM outbox')).toEqual([]);
    });

    it('a rolled-back change leaves neither the change nor its event (outbox atomicity)', async () => {
      await addProduct('beans');
      await expect(
        dataSource.transaction(async (manager) => {
          await updateProduct(manager, 'beans', { name: 'Never', priceMinor: 1 }, { correlationId: 'c' });
          throw new Error('the caller fails after the update');
        }),
      ).rejects.toThrow('the caller fails');
      await expect(get('/products/beans')).resolves.toMatchObject({
        body: { name: 'beans', price: { amountMinor: 1000 }, version: 1 },
      });
      await expect(events('beans')).resolves.toEqual([]);
    });
  });

  describe('GET /reservations/:orderId', () => {
    it("shows an order's reservation through reserve and release, and a rejected one with what was asked", async () => {
      await addProduct('filter', 5);
      const orderId = randomUUID();
      await dataSource.transaction((m) => reserveStock(m, orderId, [{ productId: 'filter', quantity: 2 }]));
      const reserved = await get(`/reservations/${orderId}`);
      expect(reserved).toEqual({
        status: 200,
        body: {
          orderId,
          reservationId: expect.any(String),
          status: 'RESERVED',
          lines: [{ productId: 'filter', quantity: 2 }],
          createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
          updatedAt: expect.any(String),
        },
      });
      await dataSource.transaction((m) => releaseStock(m, orderId));
      const released = await get(`/reservations/${orderId}`);
      expect(released.body).toMatchObject({
        status: 'RELEASED',
        reservationId: reserved.body['reservationId'],
        lines: [{ productId: 'filter', quantity: 2 }],
      });
      expect(Date.parse(String(released.body['updatedAt']))).toBeGreaterThanOrEqual(
        Date.parse(String(reserved.body['updatedAt'])),
      );

      const rejected = randomUUID();
      await dataSource.transaction((m) => reserveStock(m, rejected, [{ productId: 'filter', quantity: 6 }]));
      await expect(get(`/reservations/${rejected}`)).resolves.toMatchObject({
        status: 200,
        body: { status: 'REJECTED', lines: [{ productId: 'filter', quantity: 6 }] },
      });
    });

    it('answers 404 RESERVATION_NOT_FOUND for an order without one or an id that is not a uuid', async () => {
      for (const id of [randomUUID(), 'not-a-uuid', '%00'])
        await expect(get(`/reservations/${id}`)).resolves.toMatchObject({
          status: 404,
          body: { error: { code: 'RESERVATION_NOT_FOUND', correlationId: expect.any(String) } },
        });
    });
  });
});
