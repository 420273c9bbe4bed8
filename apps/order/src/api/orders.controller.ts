import { TraceFlags, isSpanContextValid, trace } from '@opentelemetry/api';
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
import { customerId as customerIdSchema, orderLines } from '@saga-lab/contracts';
import {
  correlationIdFrom,
  decodeCursor,
  encodeCursor,
  pageQuery,
  parseInput,
  type Page,
} from '@saga-lab/observability';
import type { SagaStore } from '@saga-lab/saga';
import type { FastifyReply } from 'fastify';
import { DataSource } from 'typeorm';
import { z } from 'zod';
import { assertChangeable, findOrder, listOrders, placeOrder, type Order } from '../domain/orders';
import { OrderError } from '../domain/errors';
import { Catalog } from '../infra/catalog';
import { ADMISSION, CATALOG, PLACE_ORDER_SAGA } from '../tokens';
import { Admission } from './admission';
import type { PlaceOrderData } from '../saga/place-order.saga';

const placeOrderBody = z.object({ customerId: customerIdSchema, lines: orderLines }).strict();
const uuid = z.uuid();

const listQuery = pageQuery.extend({ customerId: customerIdSchema.optional() }).strict();

/** A PostgreSQL timestamp to the microsecond, in UTC, as listOrders renders it. */
const positionTime = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
  // Only a real instant: the database would refuse "02-30" or "24:00" with an error, i.e. a 500.
  .refine((time) => {
    const millis = `${time.slice(0, 23)}Z`;
    const date = new Date(millis);
    return !Number.isNaN(date.getTime()) && date.getUTCFullYear() >= 1 && date.toISOString() === millis;
  });
const cursorPosition = z.tuple([positionTime, uuid]);

/** The trace this request runs in, when it is recorded (a link to an unrecorded trace finds nothing). */
function tracedIn(): { traceId?: string } {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) && span.traceFlags & TraceFlags.SAMPLED
    ? { traceId: span.traceId }
    : {};
}

/** Internal order API (the gateway is the public edge). */
@Controller('orders')
export class OrdersController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PLACE_ORDER_SAGA) private readonly saga: SagaStore<PlaceOrderData>,
    @Inject(CATALOG) private readonly catalog: Catalog,
    @Inject(ADMISSION) private readonly admission: Admission,
  ) {}

  /** Accept-then-process: 202 + Location; the saga decides the outcome asynchronously. */
  @Post()
  @HttpCode(202)
  async create(
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Headers('x-correlation-id') correlationId: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<Order> {
    const request = parseInput(placeOrderBody, body, 'body');
    if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,200}$/.test(idempotencyKey)) {
      throw new OrderError(
        'INVALID_IDEMPOTENCY_KEY',
        'Idempotency-Key must be 1–200 visible ASCII characters',
      );
    }
    this.admission.admit();
    const correlation = correlationIdFrom(correlationId);
    const priced = await this.catalog.price(request.lines, correlation);
    // The saga's messages are staged inside this request's trace (its HTTP server span, a child of the
    // gateway's call), so the whole saga continues it: see libs/messaging trace-context.
    const { order } = await this.dataSource.transaction((manager) =>
      placeOrder(manager, this.saga, {
        customerId: request.customerId,
        lines: priced,
        correlationId: correlation,
        ...(idempotencyKey ? { idempotencyKey } : {}),
        ...tracedIn(),
      }),
    );
    void reply.header('location', `/orders/${order.orderId}`);
    return order;
  }

  @Get(':orderId')
  async one(@Param('orderId') orderId: string): Promise<Order & { saga: unknown }> {
    if (!uuid.safeParse(orderId).success) throw new OrderError('ORDER_NOT_FOUND', `no order ${orderId}`);
    const order = await findOrder(this.dataSource.manager, orderId);
    if (!order) throw new OrderError('ORDER_NOT_FOUND', `no order ${orderId}`);
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

  /**
   * Newest first, one customer's or (without customerId, for admins: the gateway decides who may omit it)
   * everyone's. An empty customerId is a 400, never "all".
   */
  @Get()
  async list(@Query() query: unknown): Promise<Page<Order>> {
    const { customerId, limit, cursor } = parseInput(listQuery, query, 'query');
    const position = cursor === undefined ? undefined : decodeCursor(cursor, cursorPosition);
    const { orders, next } = await listOrders(this.dataSource.manager, {
      customerId,
      limit,
      after: position && { createdAt: position[0], orderId: position[1] },
    });
    return { items: orders, nextCursor: next ? encodeCursor([next.createdAt, next.orderId]) : null };
  }

  /** Changing an order is refused: the semantic lock while PENDING, and finality afterwards. */
  @Patch(':orderId')
  async change(@Param('orderId') orderId: string): Promise<never> {
    if (!uuid.safeParse(orderId).success) throw new OrderError('ORDER_NOT_FOUND', `no order ${orderId}`);
    return assertChangeable(this.dataSource.manager, orderId);
  }
}
