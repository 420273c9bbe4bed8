import type { Money } from '@saga-lab/contracts';

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

/** Products by id (in id order), or the catalog's first `limit` products when no ids are given. */
export async function findProducts(db: Queryable, ids?: readonly string[], limit = 500): Promise<Product[]> {
  const columns = 'product_id, name, price_minor, currency, available, version';
  const rows = (
    ids
      ? await db.query(`SELECT ${columns} FROM products WHERE product_id = ANY($1) ORDER BY product_id`, [
          ids,
        ])
      : await db.query(`SELECT ${columns} FROM products ORDER BY product_id LIMIT $1`, [limit])
  ) as ProductRow[];
  return rows.map((row) => ({
    productId: row.product_id,
    name: row.name,
    price: { amountMinor: Number(row.price_minor), currency: row.currency },
    available: row.available,
    version: row.version,
  }));
}
