import 'reflect-metadata';
import { requireEnv, testSchema } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { releaseStock, reserveStock } from '../src/domain/reservations';
import { Inventory1732500000000 } from '../src/infra/migrations/1732500000000-inventory';

const PRODUCTS = ['beans', 'filter', 'grinder', 'kettle', 'mug'];
const INITIAL = 40;

describe('stock reservations (real PostgreSQL)', () => {
  const url = requireEnv('INVENTORY_DATABASE_URL');
  const schema = testSchema(url, 'inv');
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: [Inventory1732500000000],
    poolSize: 10,
    extra: { options: schema.connectionOptions.options },
  });
  const stock = async (): Promise<Map<string, { available: number; reserved: number }>> =>
    new Map(
      (
        (await dataSource.query('SELECT product_id, available, reserved FROM products')) as {
          product_id: string;
          available: number;
          reserved: number;
        }[]
      ).map((r) => [r.product_id, { available: r.available, reserved: r.reserved }]),
    );
  const reserve = (orderId: string, lines: { productId: string; quantity: number }[]) =>
    dataSource.transaction((m) => reserveStock(m, orderId, lines));
  const release = (orderId: string) => dataSource.transaction((m) => releaseStock(m, orderId));

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
  });
  beforeEach(async () => {
    await dataSource.query('TRUNCATE products, reservations');
    for (const id of PRODUCTS) {
      await dataSource.query(
        `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ($1, $1, 1000, 'EUR', $2)`,
        [id, INITIAL],
      );
    }
  });
  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
    await dataSource.destroy();
  });

  it('reserves all lines or none', async () => {
    const result = await reserve(randomUUID(), [
      { productId: 'beans', quantity: 2 },
      { productId: 'mug', quantity: INITIAL + 1 },
    ]);
    expect(result).toEqual({
      ok: false,
      reason: 'OUT_OF_STOCK',
      unavailable: [{ productId: 'mug', requested: INITIAL + 1, available: INITIAL }],
    });
    expect((await stock()).get('beans')).toEqual({ available: INITIAL, reserved: 0 });

    await expect(reserve(randomUUID(), [{ productId: 'teapot', quantity: 1 }])).resolves.toMatchObject({
      ok: false,
      reason: 'UNKNOWN_PRODUCT',
    });
  });

  it('is idempotent per order: a repeated command gets the same reservation and takes stock once', async () => {
    const orderId = randomUUID();
    const first = await reserve(orderId, [{ productId: 'beans', quantity: 3 }]);
    const again = await reserve(orderId, [{ productId: 'beans', quantity: 3 }]);
    expect(first.ok && again.ok && again.reservationId === first.reservationId).toBe(true);
    expect((await stock()).get('beans')).toEqual({ available: INITIAL - 3, reserved: 3 });
  });

  it('releases once, and a release that came first keeps a late reservation from happening', async () => {
    const orderId = randomUUID();
    await reserve(orderId, [{ productId: 'kettle', quantity: 5 }]);
    await expect(release(orderId)).resolves.toEqual({ released: true });
    await expect(release(orderId)).resolves.toEqual({ released: false });
    expect((await stock()).get('kettle')).toEqual({ available: INITIAL, reserved: 0 });

    const late = randomUUID();
    await expect(release(late)).resolves.toEqual({ released: false });
    await expect(reserve(late, [{ productId: 'kettle', quantity: 1 }])).resolves.toEqual({
      ok: false,
      reason: 'ORDER_RELEASED',
      unavailable: [],
    });
    expect((await stock()).get('kettle')).toEqual({ available: INITIAL, reserved: 0 });
  });

  it('200 concurrent orders on 5 scarce products: stock never negative, every unit accounted for', async () => {
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const orders = Array.from({ length: 200 }, () => {
      const picked = PRODUCTS.filter(() => random() < 0.4);
      const lines = (picked.length > 0 ? picked : ['beans']).map((productId) => ({
        productId,
        quantity: 1 + Math.floor(random() * 3),
      }));
      return { orderId: randomUUID(), lines };
    });
    // Each order is also delivered twice, concurrently, as at-least-once delivery may do.
    const results = await Promise.all(
      orders.flatMap((o) => [reserve(o.orderId, o.lines), reserve(o.orderId, o.lines)]),
    );
    const accepted = orders.filter((_, i) => results[2 * i]?.ok);
    expect(results.filter((r) => r.ok).length).toBe(2 * accepted.length); // both deliveries agree
    expect(accepted.length).toBeGreaterThan(0);
    expect(accepted.length).toBeLessThan(orders.length); // scarce: some were refused

    const after = await stock();
    for (const productId of PRODUCTS) {
      const demanded = accepted
        .flatMap((o) => o.lines)
        .filter((l) => l.productId === productId)
        .reduce((sum, l) => sum + l.quantity, 0);
      const { available, reserved } = after.get(productId) ?? { available: -1, reserved: -1 };
      expect(available).toBeGreaterThanOrEqual(0);
      expect(reserved).toBe(demanded); // no duplicate effects
      expect(available + reserved).toBe(INITIAL); // conservation
    }

    // Releasing every accepted order (concurrently, twice) restores the initial stock exactly.
    await Promise.all(accepted.flatMap((o) => [release(o.orderId), release(o.orderId)]));
    for (const { available, reserved } of (await stock()).values())
      expect({ available, reserved }).toEqual({ available: INITIAL, reserved: 0 });
  }, 60_000);
});
