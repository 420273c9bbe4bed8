import { Body, Controller, Get, Headers, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { HttpAnswer, parseInput } from '@saga-lab/observability';
import type { FastifyReply } from 'fastify';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Principal } from '../auth/users';
import { IdempotencyStore, type StoredResponse } from '../edge/idempotency';
import { Ctx, Roles, type RequestContext } from '../edge/request-context';
import { GatewayError } from '../errors';
import type { GatewayConfig } from '../config';
import { GATEWAY_CONFIG } from '../edge/edge.guard';
import {
  orderAnswer,
  orderPageAnswer,
  paymentAnswer,
  reservationAnswer,
  tracedOrderAnswer,
} from '../upstream/answers';
import { Upstreams, type Dependency } from '../upstream/upstreams';
import { Operation } from './openapi';
import {
  order as orderSchema,
  orderDetail,
  orderIdParam,
  orderListQuery,
  page,
  placeOrderRequest,
  type Order,
} from './schemas';
import { nextLink, parseId } from './validate';

type Section<T> =
  | { status: 'ok'; data: T }
  | { status: 'none' }
  | { status: 'unavailable'; error: { code: string; message: string } };

const notFound = (orderId: string): GatewayError =>
  new GatewayError('ORDER_NOT_FOUND', `no order ${orderId.slice(0, 100)}`);

const orderExample = {
  orderId: '0b7c3f0e-5d0e-4c8a-9a57-3f1f1b8c2d4e',
  customerId: 'c-alice',
  lines: [{ productId: 'espresso-beans', quantity: 2 }],
  total: { amountMinor: 4980, currency: 'EUR' },
  status: 'PENDING',
  statusReason: null,
  createdAt: '2026-11-23T10:00:00.000Z',
  updatedAt: '2026-11-23T10:00:00.000Z',
};

@Controller('v1/orders')
export class OrdersController {
  constructor(
    @Inject(Upstreams) private readonly upstreams: Upstreams,
    @Inject(IdempotencyStore) private readonly idempotency: IdempotencyStore,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  /**
   * Accept-then-process: 202 + Location; the saga decides. The Idempotency-Key travels on into the order
   * service (scoped to the caller), so the whole chain — gateway, order, saga — acts once per key.
   */
  @Post()
  @Roles('customer')
  @Operation({
    tag: 'orders',
    summary: 'Place an order (customers); the saga reserves stock and takes the payment asynchronously',
    description:
      'Idempotency-Key (required) has Stripe semantics: a repeat gets the first response again (Idempotent-Replayed: true), ' +
      '409 while the first request is in flight, 422 when the same key comes with a different body. Keys are kept 24 h.',
    auth: true,
    headers: [
      {
        name: 'Idempotency-Key',
        description: 'A unique key per intended order (1–255 visible ASCII characters), e.g. a UUID',
        required: true,
        schema: z.string().min(1).max(255),
      },
    ],
    body: { schema: placeOrderRequest, example: { lines: [{ productId: 'espresso-beans', quantity: 2 }] } },
    responses: [
      {
        status: 202,
        description: 'Accepted: the order is PENDING while its saga runs; poll its Location',
        schema: orderSchema,
        example: orderExample,
        headers: {
          Location: { description: 'The order resource', schema: { type: 'string' } },
          'Idempotent-Replayed': {
            description: 'true when this is the stored first response',
            schema: { type: 'string' },
          },
        },
      },
    ],
    errors: [403, 409, 422, 503, 504],
  })
  async place(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Ctx() ctx: RequestContext,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    if (!idempotencyKey) {
      throw new GatewayError('IDEMPOTENCY_KEY_REQUIRED', 'POST /v1/orders needs an Idempotency-Key header');
    }
    const customerId = customerOf(ctx.principal);
    const request = parseInput(placeOrderRequest, body, 'body');
    const result = await this.idempotency.run(
      ctx.principal.username,
      idempotencyKey,
      request,
      ctx.correlationId,
      async (): Promise<StoredResponse> => {
        const response = await this.upstreams.expectOk(
          'order',
          {
            method: 'POST',
            path: '/orders',
            body: { customerId, lines: request.lines },
            headers: {
              // One key per caller and key, opaque to the order service (which de-duplicates on it too).
              'idempotency-key': `gw-${createHash('sha256').update(`${ctx.principal.username}\n${idempotencyKey}`).digest('base64url')}`,
            },
            deadline: ctx.deadline,
            correlationId: ctx.correlationId,
          },
          orderAnswer,
        );
        const placed = response.body;
        return { status: 202, headers: { location: `/v1/orders/${placed.orderId}` }, body: placed };
      },
    );
    void reply.status(result.status).headers(result.headers);
    if (result.replayed) void reply.header('idempotent-replayed', 'true');
    void reply.header('content-type', 'application/json; charset=utf-8').send(JSON.stringify(result.body));
  }

  @Get(':orderId')
  @Operation({
    tag: 'orders',
    summary: 'One order, assembled from the order, payment and inventory services',
    description:
      'The order itself is required (503 if its service is down). The payment and reservation sections degrade one by one: ' +
      'status "unavailable" when their service is down, "none" when there is nothing yet. Another customer\'s order is a 404.',
    auth: true,
    params: { orderId: orderIdParam },
    responses: [
      {
        status: 200,
        description: 'The order and its sections',
        schema: orderDetail,
        example: {
          order: orderExample,
          payment: {
            status: 'unavailable',
            error: {
              code: 'DEPENDENCY_UNAVAILABLE',
              message: 'the payment service is unavailable; retry later',
            },
          },
          reservation: {
            status: 'ok',
            data: {
              status: 'RESERVED',
              lines: orderExample.lines,
              createdAt: orderExample.createdAt,
              updatedAt: orderExample.updatedAt,
            },
          },
          trace: {
            traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
            url: 'http://127.0.0.1:9411/zipkin/traces/4bf92f3577b34da6a3ce929d0e0e4736',
          },
        },
      },
    ],
    errors: [404, 503, 504],
  })
  async one(
    @Param('orderId') orderId: string,
    @Ctx() ctx: RequestContext,
  ): Promise<z.infer<typeof orderDetail>> {
    const id = parseId(orderIdParam, orderId, () => notFound(orderId));
    const response = await this.upstreams.expectOk(
      'order',
      { method: 'GET', path: `/orders/${id}`, deadline: ctx.deadline, correlationId: ctx.correlationId },
      tracedOrderAnswer,
    );
    const { traceId, ...found } = response.body;
    // Ownership: someone else's order does not exist, as far as this caller can tell.
    if (ctx.principal.role !== 'admin' && found.customerId !== ctx.principal.customerId) throw notFound(id);
    const [payment, reservation] = await Promise.all([
      this.section('payment', `/payments/${id}`, ctx, paymentAnswer),
      this.section('inventory', `/reservations/${id}`, ctx, reservationAnswer),
    ]);
    const zipkin = this.config.ZIPKIN_URL;
    const trace = traceId
      ? { traceId, url: zipkin ? new URL(`/zipkin/traces/${traceId}`, zipkin).toString() : null }
      : null;
    return { order: found, payment, reservation, trace };
  }

  @Get()
  @Operation({
    tag: 'orders',
    summary: "The caller's orders, newest first (admins see everyone's, optionally one customer's)",
    auth: true,
    query: orderListQuery,
    responses: [
      {
        status: 200,
        description: 'A page of orders',
        schema: page(orderSchema),
        example: { items: [orderExample], has_more: false, next_cursor: null },
        headers: {
          Link: { description: 'The next page (rel="next"), absent on the last', schema: { type: 'string' } },
        },
      },
    ],
    errors: [403, 503, 504],
  })
  async list(
    @Query() rawQuery: unknown,
    @Ctx() ctx: RequestContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ items: Order[]; has_more: boolean; next_cursor: string | null }> {
    const query = parseInput(orderListQuery, rawQuery, 'query');
    const customerId = ctx.principal.role === 'admin' ? query.customerId : customerOf(ctx.principal);
    if (ctx.principal.role !== 'admin' && query.customerId !== undefined && query.customerId !== customerId) {
      throw new GatewayError('FORBIDDEN', 'customers see only their own orders');
    }
    const response = await this.upstreams.expectOk(
      'order',
      {
        method: 'GET',
        path: '/orders',
        query: { customerId, limit: String(query.limit), cursor: query.cursor },
        deadline: ctx.deadline,
        correlationId: ctx.correlationId,
      },
      orderPageAnswer,
    );
    const next = response.body.nextCursor ?? null;
    const link = nextLink('/v1/orders', query.limit, next, { customerId: query.customerId });
    if (link) void reply.header('link', link);
    return { items: response.body.items, has_more: next !== null, next_cursor: next };
  }

  /** Partial failure: a section whose service is down says so instead of failing the whole response. */
  private async section<S extends z.ZodType>(
    service: Dependency,
    path: string,
    ctx: RequestContext,
    answer: S,
  ): Promise<Section<z.output<S>>> {
    try {
      const response = await this.upstreams.call(
        service,
        { method: 'GET', path, deadline: ctx.deadline, correlationId: ctx.correlationId },
        answer,
      );
      if (response.ok) return { status: 'ok', data: response.body };
      if (response.status === 404) return { status: 'none' };
      throw new GatewayError('UPSTREAM_REFUSED', `the ${service} service answered ${response.status}`);
    } catch (error) {
      if (!(error instanceof HttpAnswer)) throw error;
      return { status: 'unavailable', error: { code: error.code, message: error.message } };
    }
  }
}

function customerOf(principal: Principal): string {
  if (!principal.customerId) throw new GatewayError('FORBIDDEN', 'this user acts for no customer');
  return principal.customerId;
}
