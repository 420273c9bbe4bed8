import { Body, Controller, Get, Headers, Inject, Param, Patch, Query, Res } from '@nestjs/common';
import { parseInput } from '@saga-lab/observability';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Ctx, Roles, type RequestContext } from '../edge/request-context';
import { GatewayError } from '../errors';
import { ProductCache, type Product } from '../products/product-cache';
import { productAnswer, productPageAnswer } from '../upstream/answers';
import { Upstreams } from '../upstream/upstreams';
import { Operation } from './openapi';
import { page, pageQuery, product, productIdParam, productPatch } from './schemas';
import { nextLink, parseId } from './validate';

const notFound = (productId: string): GatewayError =>
  new GatewayError('PRODUCT_NOT_FOUND', `no product ${productId.slice(0, 100)}`);
const productExample = {
  productId: 'espresso-beans',
  name: 'Espresso beans, 1 kg',
  price: { amountMinor: 2490, currency: 'EUR' },
  available: 120,
  version: 3,
};
const productPage = page(product);
/** The catalog may be a few seconds old in a client's cache; after that it revalidates (ETag → 304). */
const CACHE_CONTROL = 'private, max-age=5, must-revalidate';
/** When /v1/catalog stops answering (RFC 8594), and since when it is deprecated (RFC 9745). */
const CATALOG_SUNSET = new Date('2027-06-30T00:00:00Z');
const CATALOG_DEPRECATED = new Date('2026-11-01T00:00:00Z');

const listSpec = {
  tag: 'products',
  auth: true,
  query: pageQuery,
  responses: [
    {
      status: 200,
      description: 'A page of products, in id order',
      schema: productPage,
      example: { items: [productExample], has_more: true, next_cursor: 'ZXNwcmVzc28tYmVhbnM' },
      headers: {
        Link: { description: 'The next page (rel="next"), absent on the last', schema: { type: 'string' } },
      },
    },
  ],
  errors: [503, 504],
} as const;

@Controller('v1')
export class ProductsController {
  constructor(
    @Inject(ProductCache) private readonly cache: ProductCache,
    @Inject(Upstreams) private readonly upstreams: Upstreams,
  ) {}

  @Get('products')
  @Operation({ ...listSpec, summary: 'List products (cursor pagination)' })
  async list(
    @Query() query: unknown,
    @Ctx() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ items: Product[]; has_more: boolean; next_cursor: string | null }> {
    return this.page('/v1/products', query, ctx, reply);
  }

  /** The first name of the product list, kept for old clients until its sunset. */
  @Get('catalog')
  @Operation({
    ...listSpec,
    summary: 'Deprecated: use GET /v1/products (same answer; Deprecation, Sunset and Link headers say so)',
    deprecated: true,
  })
  async catalog(
    @Query() query: unknown,
    @Ctx() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ items: Product[]; has_more: boolean; next_cursor: string | null }> {
    void reply
      .header('deprecation', `@${Math.floor(CATALOG_DEPRECATED.getTime() / 1000)}`)
      .header('sunset', CATALOG_SUNSET.toUTCString())
      .header('link', '</v1/products>; rel="successor-version"');
    return this.page('/v1/catalog', query, ctx, reply);
  }

  @Get('products/:productId')
  @Operation({
    tag: 'products',
    summary: 'One product (cached: in-process and Redis; ETag / If-None-Match → 304)',
    auth: true,
    params: { productId: productIdParam },
    headers: [
      {
        name: 'If-None-Match',
        description: 'ETag of the copy the client holds',
        required: false,
        schema: z.string(),
      },
    ],
    responses: [
      {
        status: 200,
        description: 'The product',
        schema: product,
        example: productExample,
        headers: {
          ETag: { description: 'Validator of this representation', schema: { type: 'string' } },
          'Cache-Control': { description: CACHE_CONTROL, schema: { type: 'string' } },
        },
      },
      { status: 304, description: 'The client copy (If-None-Match) is current' },
    ],
    errors: [404, 503, 504],
  })
  async one(
    @Param('productId') productId: string,
    @Headers('if-none-match') ifNoneMatch: string | undefined,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const id = parseId(productIdParam, productId, () => notFound(productId));
    const cached = await this.cache.get(id);
    if (!cached) throw notFound(id);
    void reply.header('etag', cached.etag).header('cache-control', CACHE_CONTROL);
    if (ifNoneMatch && matches(ifNoneMatch, cached.etag)) {
      void reply.status(304).send();
      return;
    }
    void reply
      .status(200)
      .header('content-type', 'application/json; charset=utf-8')
      .send(JSON.stringify(cached.product));
  }

  @Patch('products/:productId')
  @Roles('admin')
  @Operation({
    tag: 'products',
    summary:
      'Change a product (admin): name and/or price; cached copies are invalidated by its ProductUpdated event',
    auth: true,
    params: { productId: productIdParam },
    body: { schema: productPatch, example: { price: { amountMinor: 2290 } } },
    responses: [
      { status: 200, description: 'The changed product', schema: product, example: productExample },
    ],
    errors: [403, 404, 503, 504],
  })
  async change(
    @Param('productId') productId: string,
    @Body() body: unknown,
    @Ctx() ctx: RequestContext,
  ): Promise<Product> {
    const id = parseId(productIdParam, productId, () => notFound(productId));
    const patch = parseInput(productPatch, body, 'body');
    const response = await this.upstreams.expectOk(
      'inventory',
      {
        method: 'PATCH',
        path: `/products/${id}`,
        body: patch,
        deadline: ctx.deadline,
        correlationId: ctx.correlationId,
      },
      productAnswer,
    );
    return response.body;
  }

  private async page(
    path: string,
    rawQuery: unknown,
    ctx: RequestContext,
    reply: FastifyReply,
  ): Promise<{ items: Product[]; has_more: boolean; next_cursor: string | null }> {
    const query = parseInput(pageQuery, rawQuery, 'query');
    const response = await this.upstreams.expectOk(
      'inventory',
      {
        method: 'GET',
        path: '/products',
        query: { limit: String(query.limit), cursor: query.cursor },
        deadline: ctx.deadline,
        correlationId: ctx.correlationId,
      },
      productPageAnswer,
    );
    const next = response.body.nextCursor ?? null;
    const link = nextLink(path, query.limit, next);
    if (link)
      void reply.header(
        'link',
        reply.getHeader('link') ? `${String(reply.getHeader('link'))}, ${link}` : link,
      );
    void reply.header('cache-control', CACHE_CONTROL);
    return { items: response.body.items, has_more: next !== null, next_cursor: next };
  }
}

/** Weak comparison (RFC 9110 §13.1.2): `*`, or any listed tag equal ignoring a `W/` prefix. */
function matches(ifNoneMatch: string, etag: string): boolean {
  if (ifNoneMatch.trim() === '*') return true;
  const bare = (tag: string): string => tag.trim().replace(/^W\//, '');
  return ifNoneMatch.split(',').some((tag) => bare(tag) === bare(etag));
}
