import {
  OrderCancelled,
  OrderConfirmed,
  OrderCreated,
  OrderRejected,
  type Money,
  type OrderLine,
} from '@saga-lab/contracts';
import { enqueue } from '@saga-lab/messaging';
import type { SagaInstance, SagaStore } from '@saga-lab/saga';
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { EntityManager } from 'typeorm';
import type { PlaceOrderData } from '../saga/place-order.saga';
import { OrderError } from './errors';

export type OrderStatus = 'PENDING' | 'CONFIRMED' | 'REJECTED' | 'CANCELLED';

export interface PricedLine extends OrderLine {
  readonly unitPrice: Money;
}

export interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly total: Money;
  readonly status: OrderStatus;
  readonly statusReason: string | null;
  /** The trace the order was placed in (null when it was not traced). */
  readonly traceId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface OrderRow {
  order_id: string;
  customer_id: string;
  lines: OrderLine[];
  total_minor: string;
  currency: string;
  status: OrderStatus;
  status_reason: string | null;
  trace_id: string | null;
  idempotency_key: string | null;
  created_at: Date;
  updated_at: Date;
}

const toOrder = (row: OrderRow): Order => ({
  orderId: row.order_id,
  customerId: row.customer_id,
  lines: row.lines,
  total: { amountMinor: Number(row.total_minor), currency: row.currency },
  status: row.status,
  statusReason: row.status_reason,
  traceId: row.trace_id ?? null,
  createdAt: new Date(row.created_at).toISOString(),
  updatedAt: new Date(row.updated_at).toISOString(),
});

export function totalOf(lines: readonly PricedLine[]): Money {
  const currencies = new Set(lines.map((l) => l.unitPrice.currency));
  if (currencies.size !== 1)
    throw new OrderError('MIXED_CURRENCIES', 'all products of an order must be priced in one currency');
  return {
    amountMinor: lines.reduce((sum, l) => sum + l.unitPrice.amountMinor * l.quantity, 0),
    currency: [...currencies][0] ?? 'EUR',
  };
}

export async function findOrder(manager: EntityManager, orderId: string): Promise<Order | undefined> {
  const rows = (await manager.query('SELECT * FROM orders WHERE order_id = $1', [orderId])) as OrderRow[];
  return rows[0] ? toOrder(rows[0]) : undefined;
}

/** Where a page of orders ends: the last order's creation time (to the microsecond) and id. */
export interface OrderPosition {
  readonly createdAt: string;
  readonly orderId: string;
}

/**
 * A page of orders, newest first, all of them or one customer's. Keyset pagination on (created_at, order_id):
 * the id breaks ties between orders created in the same microsecond, and a page costs the same at any depth
 * (an index serves each filter, read backwards: see the OrdersPageIndexes migration).
 */
export async function listOrders(
  manager: EntityManager,
  query: { readonly customerId?: string; readonly after?: OrderPosition; readonly limit: number },
): Promise<{ orders: Order[]; next: OrderPosition | undefined }> {
  const parameters: unknown[] = [query.limit + 1]; // one more row: is there a next page?
  const conditions: string[] = [];
  if (query.customerId !== undefined) {
    parameters.push(query.customerId);
    conditions.push(`customer_id = $${parameters.length}`);
  }
  if (query.after) {
    parameters.push(query.after.createdAt, query.after.orderId);
    conditions.push(
      `(created_at, order_id) < ($${parameters.length - 1}::timestamptz, $${parameters.length}::uuid)`,
    );
  }
  // The position is rendered by PostgreSQL: a JS Date keeps milliseconds, created_at has microseconds, and
  // a truncated bound would skip the orders created later within the same millisecond.
  const rows = (await manager.query(
    `SELECT *, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS position
       FROM orders ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
      ORDER BY created_at DESC, order_id DESC
      LIMIT $1`,
    parameters,
  )) as (OrderRow & { position: string })[];
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    orders: page.map(toOrder),
    next:
      rows.length > query.limit && last ? { createdAt: last.position, orderId: last.order_id } : undefined,
  };
}

/**
 * Creates a PENDING order and starts its saga in the same transaction (the saga's first command and the
 * OrderCreated event go through the outbox with it). With an idempotency key, a repeat returns the
 * first order; the same key with different parameters is a 422.
 */
export async function placeOrder(
  manager: EntityManager,
  saga: SagaStore<PlaceOrderData>,
  input: {
    customerId: string;
    lines: readonly PricedLine[];
    idempotencyKey?: string;
    correlationId: string;
    traceId?: string;
  },
): Promise<{ order: Order; created: boolean }> {
  const lines = input.lines.map(({ productId, quantity }) => ({ productId, quantity }));
  if (input.idempotencyKey) {
    await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [input.idempotencyKey]);
    const rows = (await manager.query('SELECT * FROM orders WHERE idempotency_key = $1', [
      input.idempotencyKey,
    ])) as OrderRow[];
    const previous = rows[0];
    if (previous) {
      if (previous.customer_id !== input.customerId || !isDeepStrictEqual(previous.lines, lines)) {
        throw new OrderError(
          'IDEMPOTENCY_KEY_REUSED',
          'this idempotency key was used with different parameters',
        );
      }
      return { order: toOrder(previous), created: false };
    }
  }
  const orderId = randomUUID();
  const total = totalOf(input.lines);
  const rows = (await manager.query(
    `INSERT INTO orders (order_id, customer_id, lines, total_minor, currency, status, idempotency_key, trace_id)
     VALUES ($1, $2, $3, $4, $5, 'PENDING', $6, $7) RETURNING *`,
    [
      orderId,
      input.customerId,
      JSON.stringify(lines),
      total.amountMinor,
      total.currency,
      input.idempotencyKey ?? null,
      input.traceId ?? null,
    ],
  )) as OrderRow[];
  await saga.start(
    manager,
    orderId,
    { orderId, customerId: input.customerId, lines, total },
    input.correlationId,
  );
  await enqueue(
    manager,
    OrderCreated,
    { orderId, customerId: input.customerId, lines, total },
    { correlationId: input.correlationId, sagaId: orderId },
  );
  return { order: toOrder(rows[0] as OrderRow), created: true };
}

/**
 * Semantic lock: while its saga runs, an order is PENDING and refuses changes (409), because a change now
 * would race the reservation and the payment. A finished order refuses them too: it is history.
 */
export async function assertChangeable(manager: EntityManager, orderId: string): Promise<never> {
  const order = await findOrder(manager, orderId);
  if (!order) throw new OrderError('ORDER_NOT_FOUND', `no order ${orderId}`);
  if (order.status === 'PENDING') {
    throw new OrderError(
      'ORDER_LOCKED',
      'the order is being processed and cannot change until it is confirmed or cancelled',
      { details: { status: order.status } },
    );
  }
  throw new OrderError('ORDER_FINAL', `the order is ${order.status} and can no longer change`, {
    details: { status: order.status },
  });
}

const TERMINAL: Record<string, OrderStatus> = {
  CONFIRMED: 'CONFIRMED',
  REJECTED: 'REJECTED',
  CANCELLED: 'CANCELLED',
};

/** Runs with every saga transition: when the saga ends, the order takes its final status and says so. */
export async function settleOrder(
  manager: EntityManager,
  instance: SagaInstance<PlaceOrderData>,
  correlationId: string,
): Promise<void> {
  const status = TERMINAL[instance.state];
  if (!status) return;
  const updated = (await manager.query(
    `UPDATE orders SET status = $2, status_reason = $3, updated_at = now() WHERE order_id = $1 AND status = 'PENDING' RETURNING order_id`,
    [instance.sagaId, status, instance.failureReason],
  )) as [unknown[], number];
  if (updated[1] !== 1) return;
  const meta = { correlationId, sagaId: instance.sagaId };
  const { orderId, total } = instance.data;
  const reason = instance.failureReason ?? 'unknown';
  if (status === 'CONFIRMED') await enqueue(manager, OrderConfirmed, { orderId, total }, meta);
  else if (status === 'REJECTED') await enqueue(manager, OrderRejected, { orderId, reason }, meta);
  else await enqueue(manager, OrderCancelled, { orderId, reason }, meta);
}
