import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { findProducts, type Product } from '../domain/products';

/** Internal catalog read API (the gateway fronts it). */
@Controller('products')
export class CatalogController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  async list(): Promise<{ items: Product[] }> {
    return { items: await findProducts(this.dataSource) };
  }

  @Get(':productId')
  async one(@Param('productId') productId: string): Promise<Product> {
    const [product] = await findProducts(this.dataSource, [productId]);
    if (!product)
      throw new NotFoundException({ code: 'PRODUCT_NOT_FOUND', message: `no product ${productId}` });
    return product;
  }
}
