import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Patch,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { customerId as customerIdSchema, orderLines, type Money } from '@saga-lab/contracts';
import { withTraceContext } from '@saga-lab/messaging';
import { DomainError } from '@saga-lab/observability';
import type { SagaStore } from '@saga-lab/saga';
import type { FastifyReply } from 'fastify';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { assertChangeable, findOrder, placeOrder, type Order, type PricedLine } from '../domain/orders';
import { PLACE_ORDER_SAGA } from '../messaging/saga-replies.controller';
import type { PlaceOrderData } from '../saga/place-order.saga';

export const INVENTORY_URL = Symbol('INVENTORY_URL');

const placeOrderBody = z.object({ customerId: customerIdSchema, lines: orderLines }).strict();
const uuid = z.uuid();

function invalid(error: z.ZodError): DomainError {
  return new DomainError(
    400,
    'VALIDATION_FAILED',
    'the request body is invalid',
    error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message })),
  );
}

/** Internal order API (the gateway is the public edge). */
@Controller('orders')
export class OrdersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PLACE_ORDER_SAGA) private readonly saga: SagaStore<PlaceOrderData>,
    @Inject(INVENTORY_URL) private readonly inventoryUrl: string,
  ) {}

  /** Accept-then-process: 202 + Location; the saga decides the outcome asynchronously. */
  @Post()
  @HttpCode(202)
  async create(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlationId: string | undefined,
    @Headers('traceparent') traceparent: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Order> {
    const parsed = placeOrderBody.safeParse(body);
    if (!parsed.success) throw invalid(parsed.error);
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
      throw new DomainError(
        400,
        'INVALID_IDEMPOTENCY_KEY',
        'Idempotency-Key must be 1–200 visible ASCII characters',
      );
    }
    const priced = await this.price(parsed.data.lines);
    // The saga's messages continue the caller's trace (or start one): see libs/messaging trace-context.
    const { order } = await withTraceContext(traceparent, () =>
      this.dataSource.transaction((manager) =>
        placeOrder(manager, this.saga, {
          customerId: parsed.data.customerId,
          lines: priced,
          correlationId: correlationId ?? randomUUID(),
          ...(idempotencyKey ? { idempotencyKey } : {}),
        }),
      ),
    );
    void reply.header('location', `/orders/${order.orderId}`);
    return order;
  }

  @Get(':orderId')
  async one(@Param('orderId') orderId: string): Promise<Order & { saga: unknown }> {
    if (!uuid.safeParse(orderId).success)
      throw new DomainError(404, 'ORDER_NOT_FOUND', `no order ${orderId}`);
    const order = await findOrder(this.dataSource.manager, orderId);
    if (!order) throw new DomainError(404, 'ORDER_NOT_FOUND', `no order ${orderId}`);
    const saga = await this.saga.find(this.dataSource.manager, orderId);
    return {
      ...order,
      saga: saga && {
        state: saga.instance.state,
        failureReason: saga.instance.failureReason,
        history: saga.instance.history,
      },
    };
  }

  @Get()
  async list(@Query('customerId') customerId: string | undefined): Promise<{ items: Order[] }> {
    if (!customerId || !customerIdSchema.safeParse(customerId).success) {
      throw new DomainError(400, 'VALIDATION_FAILED', 'customerId is required');
    }
    const rows = (await this.dataSource.query(
      'SELECT order_id FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 50',
      [customerId],
    )) as {
      order_id: string;
    }[];
    const items = await Promise.all(rows.map((r) => findOrder(this.dataSource.manager, r.order_id)));
    return { items: items.filter((o): o is Order => o !== undefined) };
  }

  /** Changing an order is refused: the semantic lock while PENDING, and finality afterwards. */
  @Patch(':orderId')
  async change(@Param('orderId') orderId: string): Promise<never> {
    if (!uuid.safeParse(orderId).success)
      throw new DomainError(404, 'ORDER_NOT_FOUND', `no order ${orderId}`);
    return assertChangeable(this.dataSource.manager, orderId);
  }

  /** Prices come from the catalog (inventory's read API), never from the client. */
  private async price(lines: readonly { productId: string; quantity: number }[]): Promise<PricedLine[]> {
    return Promise.all(
      lines.map(async (line) => {
        let response: Response;
        try {
          response = await fetch(`${this.inventoryUrl}/products/${encodeURIComponent(line.productId)}`, {
            signal: AbortSignal.timeout(2_000),
          });
        } catch {
          throw new DomainError(503, 'CATALOG_UNAVAILABLE', 'the catalog did not answer; try again shortly');
        }
        if (response.status === 404)
          throw new DomainError(422, 'UNKNOWN_PRODUCT', `no product ${line.productId}`, {
            productId: line.productId,
          });
        if (!response.ok)
          throw new DomainError(503, 'CATALOG_UNAVAILABLE', `the catalog answered ${response.status}`);
        const product = (await response.json()) as { price: Money };
        return { ...line, unitPrice: product.price };
      }),
    );
  }
}
