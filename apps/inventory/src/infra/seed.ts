import type { DataSource } from 'typeorm';

/** The demo catalog: a coffee shop with deliberately scarce items so the saga's rejection path is easy to hit. */
export const SEED_PRODUCTS = [
  { productId: 'espresso-beans', name: 'Espresso beans, 1 kg', priceMinor: 2_490, available: 500 },
  { productId: 'filter-papers', name: 'Filter papers, 100', priceMinor: 450, available: 1_000 },
  { productId: 'hand-grinder', name: 'Hand grinder', priceMinor: 8_900, available: 50 },
  { productId: 'gooseneck-kettle', name: 'Gooseneck kettle', priceMinor: 6_500, available: 25 },
  { productId: 'limited-mug', name: 'Limited edition mug', priceMinor: 1_800, available: 5 },
] as const;

/** Inserts the catalog once; a product that exists is left alone (its stock belongs to the running system). */
export async function seedCatalog(dataSource: DataSource): Promise<void> {
  for (const p of SEED_PRODUCTS) {
    await dataSource.query(
      `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ($1, $2, $3, 'EUR', $4) ON CONFLICT (product_id) DO NOTHING`,
      [p.productId, p.name, p.priceMinor, p.available],
    );
  }
}
