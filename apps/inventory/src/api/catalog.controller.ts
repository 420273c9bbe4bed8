import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';

interface ProductRow {
  product_id: string;
  name: string;
  price_minor: string;
  currency: string;
  available: number;
  version: number;
}

const toProduct = (row: ProductRow) => ({
  productId: row.product_id,
  name: row.name,
  price: { amountMinor: Number(row.price_minor), currency: row.currency },
  available: row.available,
  version: row.version,
});

/** Internal catalog read API (the gateway fronts it). */
@Controller('products')
export class CatalogController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  async list(): Promise<{ items: ReturnType<typeof toProduct>[] }> {
    const rows = (await this.dataSource.query(
      'SELECT product_id, name, price_minor, currency, available, version FROM products ORDER BY product_id LIMIT 500',
    )) as ProductRow[];
    return { items: rows.map(toProduct) };
  }

  @Get(':productId')
  async one(@Param('productId') productId: string): Promise<ReturnType<typeof toProduct>> {
    const rows = (await this.dataSource.query(
      'SELECT product_id, name, price_minor, currency, available, version FROM products WHERE product_id = $1',
      [productId],
    )) as ProductRow[];
    if (!rows[0])
      throw new NotFoundException({ code: 'PRODUCT_NOT_FOUND', message: `no product ${productId}` });
    return toProduct(rows[0]);
  }
}
