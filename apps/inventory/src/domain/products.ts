import { ProductUpdated, type EnvelopeMeta, type Money } from '@saga-lab/contracts';
import { enqueue } from '@saga-lab/messaging';
import type { EntityManager } from 'typeorm';

export interface Product {
  readonly productId: string;
  readonly name: string;
  readonly price: Money;
  readonly available: number;
  readonly version: number;
}

interface ProductRow {
  product_id: string;
  name: string;
  price_minor: string;
  currency: string;
  available: number;
  version: number;
}

/** Anything that runs SQL: the DataSource for reads, the transaction's manager inside a handler. */
interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/** Which products: these ids, or up to `limit` of the catalog in id order, after the id `after` if given. */
export type ProductSelection = readonly string[] | { readonly after?: string; readonly limit: number };

const isIdList = (selection: ProductSelection): selection is readonly string[] => Array.isArray(selection);

/** Products in id order: the one product read, for the API, the events and the reservations' announcements. */
export async function findProducts(db: Queryable, selection: ProductSelection): Promise<Product[]> {
  const columns = 'product_id, name, price_minor, currency, available, version';
  const rows = (
    isIdList(selection)
      ? await db.query(`SELECT ${columns} FROM products WHERE product_id = ANY($1) ORDER BY product_id`, [
          selection,
        ])
      : // '' sorts before every id: no `after` is the start of the catalog.
        await db.query(`SELECT ${columns} FROM products WHERE product_id > $1 ORDER BY product_id LIMIT $2`, [
          selection.after ?? '',
          selection.limit,
        ])
  ) as ProductRow[];
  return rows.map((row) => ({
    productId: row.product_id,
    name: row.name,
    price: { amountMinor: Number(row.price_minor), currency: row.currency },
    available: row.available,
    version: row.version,
  }));
}

/**
 * One page of the catalog. Keyset pagination on the primary key: a page costs the same at any depth, and
 * products added or removed meanwhile neither repeat nor shift the following pages.
 */
export async function productPage(
  db: Queryable,
  page: { readonly after?: string; readonly limit: number },
): Promise<{ items: Product[]; hasMore: boolean }> {
  const rows = await findProducts(db, { ...page, limit: page.limit + 1 }); // one more row: is there a next page?
  return { items: rows.slice(0, page.limit), hasMore: rows.length > page.limit };
}

export interface ProductChanges {
  readonly name?: string;
  readonly priceMinor?: number;
}

/**
 * Changes a product's name or price (its currency is fixed) and announces it: the row, its new version and
 * the ProductUpdated event in the outbox commit together, so the gateway's caches are invalidated exactly
 * when the change is visible. Runs inside the caller's transaction; `undefined` when there is no such product.
 */
export async function updateProduct(
  manager: EntityManager,
  productId: string,
  changes: ProductChanges,
  meta: EnvelopeMeta,
): Promise<Product | undefined> {
  const updated = (await manager.query(
    `UPDATE products SET name = COALESCE($2, name), price_minor = COALESCE($3, price_minor),
            version = version + 1, updated_at = now()
      WHERE product_id = $1 RETURNING product_id`,
    [productId, changes.name ?? null, changes.priceMinor ?? null],
  )) as [unknown[], number];
  if (updated[1] !== 1) return undefined;
  const [product] = await findProducts(manager, [productId]);
  if (!product) throw new Error(`product ${productId} vanished inside the transaction that updated it`);
  await enqueue(manager, ProductUpdated, product, meta);
  return product;
}
