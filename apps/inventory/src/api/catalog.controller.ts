import { Body, Controller, Get, Headers, Inject, Param, Patch, Query } from '@nestjs/common';
import { money, productId as productIdSchema } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import {
  correlationIdFrom,
  decodeCursor,
  encodeCursor,
  pageQuery,
  parseInput,
  type Page,
} from '@saga-lab/observability';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { findProducts, productPage, updateProduct, type Product } from '../domain/products';

const listQuery = pageQuery.strict();
const cursorPosition = z.tuple([productIdSchema]);

// Control characters (NUL above all, which PostgreSQL text cannot hold) would turn into a 500 or a broken
// label downstream; a blank name is no name.
const productName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, 'no control characters')
  .regex(/\S/, 'not blank');

/** The currency is fixed per product: an order's lines must share one, and a price change must not split them. */
const changeBody = z
  .object({
    name: productName.optional(),
    price: z.object({ amountMinor: money.shape.amountMinor }).strict().optional(),
  })
  .strict()
  .refine((body) => body.name !== undefined || body.price !== undefined, 'give a name or a price');

function notFound(productId: string): AppError {
  return new AppError('PRODUCT_NOT_FOUND', `no product ${productId}`);
}

/** Internal catalog API (the gateway fronts it). */
@Controller('products')
export class CatalogController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get()
  async list(@Query() query: unknown): Promise<Page<Product>> {
    const { limit, cursor } = parseInput(listQuery, query, 'query');
    const after = cursor === undefined ? undefined : decodeCursor(cursor, cursorPosition)[0];
    const { items, hasMore } = await productPage(this.dataSource, { limit, after });
    const last = items.at(-1);
    return { items, nextCursor: hasMore && last ? encodeCursor([last.productId]) : null };
  }

  @Get(':productId')
  async one(@Param('productId') productId: string): Promise<Product> {
    if (!productIdSchema.safeParse(productId).success) throw notFound(productId);
    const [product] = await findProducts(this.dataSource, [productId]);
    if (!product) throw notFound(productId);
    return product;
  }

  /** Renames or reprices a product; the ProductUpdated event commits with the change (outbox). */
  @Patch(':productId')
  async change(
    @Param('productId') productId: string,
    @Body() body: unknown,
    @Headers('x-correlation-id') correlationId: string | undefined,
  ): Promise<Product> {
    if (!productIdSchema.safeParse(productId).success) throw notFound(productId);
    const { name, price } = parseInput(changeBody, body, 'body');
    // The id travels in the event's envelope, whose contract bounds it: an unusable one is replaced, not fatal.
    const meta = {
      correlationId: correlationIdFrom(correlationId),
    };
    // The event is staged inside this request's trace (its HTTP server span), which it continues.
    const product = await this.dataSource.transaction((manager) =>
      updateProduct(manager, productId, { name, priceMinor: price?.amountMinor }, meta),
    );
    if (!product) throw notFound(productId);
    return product;
  }
}
