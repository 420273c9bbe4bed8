import type pg from 'pg';
import type { LoggedMessage } from './kafka-log';
import type { Databases } from '@saga-lab/stack';
import { orderServiceKey, type LabProduct, type OrderRecord } from './workload';

/**
 * The invariants, named in the vocabulary of Jepsen's queue checker where it fits (lost write, duplicate,
 * stuck). docs/architecture.md §6 states them; each verdict lists the ids that break it.
 */
export const INVARIANTS = {
  'lost-write': 'every acknowledged order exists',
  stuck: 'every order is in exactly one terminal state, its saga too',
  stock: 'stock is conserved per product and never negative; reservations match the outcomes',
  money:
    'captured = totals of confirmed orders; nothing held or charged for any other order, at the provider too',
  duplicate:
    'no duplicate effect: one order per key, one authorization and capture per order, each command processed once',
  'phantom-message': 'a rolled-back transaction emitted nothing: every reply names a committed change',
  'lost-message': 'every committed change emitted its message',
} as const;
export type InvariantName = keyof typeof INVARIANTS;
const MESSAGE_INVARIANTS = new Set<InvariantName>(['phantom-message', 'lost-message']);

export interface InvariantVerdict {
  readonly name: InvariantName;
  readonly description: string;
  readonly holds: boolean;
  /** false when the observation lacked what it needs (Kafka not read): `holds` then says nothing. */
  readonly checked: boolean;
  /** Order or product ids that break it (capped), and how many there are in all. */
  readonly offending: readonly string[];
  readonly offendingCount: number;
  /** One line per offending id: what exactly is wrong (capped). */
  readonly details: readonly string[];
}

export interface Verdict {
  readonly at: string;
  readonly ok: boolean;
  readonly ordersChecked: number;
  readonly invariants: readonly InvariantVerdict[];
}

/** What to check: everything since an instant, or one lab run (its products, stock and client records). */
export interface CheckScope {
  readonly since: Date;
  readonly products?: readonly LabProduct[];
  readonly records?: readonly OrderRecord[];
}

interface OrderRow {
  order_id: string;
  customer_id: string;
  lines: { productId: string; quantity: number }[];
  total_minor: string;
  currency: string;
  status: string;
  idempotency_key: string | null;
  trace_id: string | null;
  created_at: Date;
  updated_at: Date;
}
interface SagaRow {
  saga_id: string;
  phase: string;
  state: string;
}
interface ReservationRow {
  order_id: string;
  reservation_id: string;
  status: string;
  lines: { productId: string; quantity: number }[];
}
interface PaymentRow {
  order_id: string;
  payment_id: string;
  customer_id: string | null;
  status: string;
  amount_minor: string | null;
}
interface ChargeRow {
  order_id: string;
  kind: 'AUTHORIZE' | 'CAPTURE' | 'VOID' | 'REFUND';
  amount_minor: string;
  outcome: string;
}
interface ProductRow {
  product_id: string;
  available: number;
  reserved: number;
}

/** Everything the checker reads, in one place: rows from the three databases and the replies from Kafka. */
export interface Observation {
  readonly orders: readonly OrderRow[];
  readonly sagas: ReadonlyMap<string, SagaRow>;
  readonly reservations: ReadonlyMap<string, ReservationRow>;
  readonly payments: ReadonlyMap<string, PaymentRow>;
  readonly charges: ReadonlyMap<string, readonly ChargeRow[]>;
  readonly products: readonly ProductRow[];
  /** What Kafka holds for the orders in scope; null when not read (a quick check while waiting to converge). */
  readonly replies: readonly LoggedMessage[] | null;
  /** Messages committed to an outbox and not yet published, per database. */
  readonly outboxBacklog: number;
}

const TERMINAL_ORDER = new Set(['CONFIRMED', 'REJECTED', 'CANCELLED']);
const SAGA_STATE_OF: Record<string, string> = {
  COMPLETED: 'CONFIRMED',
  REJECTED: 'REJECTED',
  COMPENSATED: 'CANCELLED',
};

const byKey = <T, K extends keyof T>(rows: readonly T[], key: K): Map<string, T> =>
  new Map(rows.map((row) => [String(row[key]), row]));

/** Reads the databases directly — never a service's API, which could itself be wrong. */
export async function observe(
  db: Databases,
  scope: CheckScope,
  readReplies: ((since: Date) => Promise<LoggedMessage[]>) | null,
): Promise<Observation> {
  const productIds = scope.products?.map((p) => p.productId);
  const orders = (
    await db.orders.query<OrderRow>(
      `SELECT order_id, customer_id, lines, total_minor, currency, status, idempotency_key, trace_id, created_at, updated_at
         FROM orders WHERE created_at >= $1 OR order_id = ANY($2::uuid[])`,
      [scope.since, (scope.records ?? []).flatMap((r) => (r.orderId ? [r.orderId] : []))],
    )
  ).rows.filter((o) => !productIds || o.lines.some((line) => productIds.includes(line.productId)));
  const ids = orders.map((o) => o.order_id);
  const [sagas, reservations, payments, charges, products] = await Promise.all([
    db.orders.query<SagaRow>(`SELECT saga_id, phase, state FROM saga_instances WHERE saga_id = ANY($1)`, [
      ids,
    ]),
    db.inventory.query<ReservationRow>(
      `SELECT order_id, reservation_id, status, lines FROM reservations WHERE order_id = ANY($1::uuid[])`,
      [ids],
    ),
    db.payments.query<PaymentRow>(
      `SELECT order_id, payment_id, customer_id, status, amount_minor FROM payments WHERE order_id = ANY($1::uuid[])`,
      [ids],
    ),
    db.payments.query<ChargeRow>(
      `SELECT order_id, kind, amount_minor, outcome FROM provider_charges WHERE order_id = ANY($1::uuid[]) AND outcome = 'APPROVED'`,
      [ids],
    ),
    productIds
      ? db.inventory.query<ProductRow>(
          `SELECT product_id, available, reserved FROM products WHERE product_id = ANY($1)`,
          [productIds],
        )
      : Promise.resolve({ rows: [] as ProductRow[] }),
  ]);
  const chargesByOrder = new Map<string, ChargeRow[]>();
  for (const charge of charges.rows)
    chargesByOrder.set(charge.order_id, [...(chargesByOrder.get(charge.order_id) ?? []), charge]);
  return {
    orders,
    sagas: byKey(sagas.rows, 'saga_id'),
    reservations: byKey(reservations.rows, 'order_id'),
    payments: byKey(payments.rows, 'order_id'),
    charges: chargesByOrder,
    products: products.rows,
    replies: readReplies ? await readReplies(new Date(scope.since.getTime() - 5_000)) : null,
    outboxBacklog: await outboxBacklog(db),
  };
}

export async function outboxBacklog(db: Databases): Promise<number> {
  const counts = await Promise.all(
    [db.orders, db.inventory, db.payments].map(async (pool: pg.Pool) => {
      const { rows } = await pool.query<{ n: string }>(
        'SELECT count(*) AS n FROM outbox WHERE published_at IS NULL',
      );
      return Number(rows[0]?.n ?? 0);
    }),
  );
  return counts.reduce((a, b) => a + b, 0);
}

/** Orders not yet terminal (order row or saga): what the lab waits for after healing. */
export async function unsettled(db: Databases, scope: CheckScope): Promise<string[]> {
  const { rows } = await db.orders.query<{ order_id: string; lines: OrderRow['lines'] }>(
    `SELECT o.order_id, o.lines FROM orders o LEFT JOIN saga_instances s ON s.saga_id = o.order_id::text
      WHERE o.created_at >= $1 AND (o.status NOT IN ('CONFIRMED', 'REJECTED', 'CANCELLED')
         OR s.phase IS NULL OR s.phase NOT IN ('COMPLETED', 'REJECTED', 'COMPENSATED'))`,
    [scope.since],
  );
  const productIds = scope.products?.map((p) => p.productId);
  return rows
    .filter((o) => !productIds || o.lines.some((line) => productIds.includes(line.productId)))
    .map((o) => o.order_id);
}

/** Judges an observation. Pure: the unit tests feed it hand-made observations that break each invariant. */
export function judge(observation: Observation, scope: CheckScope, at = new Date()): Verdict {
  const found = new Map<InvariantName, Map<string, string>>();
  const violate = (name: InvariantName, id: string, detail: string): void => {
    const ids = found.get(name) ?? new Map<string, string>();
    if (!ids.has(id)) ids.set(id, `${id}: ${detail}`);
    found.set(name, ids);
  };
  const orders = byKey(observation.orders, 'order_id');

  // lost write: an acknowledged order that does not exist; or one key acknowledged with two different orders.
  const ackedByKey = new Map<string, string>();
  for (const record of scope.records ?? []) {
    if (record.outcome !== 'acknowledged' || !record.orderId) continue;
    if (!orders.has(record.orderId))
      violate(
        'lost-write',
        record.orderId,
        `acknowledged to ${record.customer} (key ${record.idempotencyKey}) but not in the orders database`,
      );
    const key = `${record.customer}\n${record.idempotencyKey}`;
    const earlier = ackedByKey.get(key);
    if (earlier && earlier !== record.orderId)
      violate(
        'duplicate',
        record.orderId,
        `key ${record.idempotencyKey} acknowledged as ${earlier} and as ${record.orderId}`,
      );
    ackedByKey.set(key, record.orderId);
  }
  // One order per idempotency key: the orders carrying the key the gateway derives from each client key.
  const ordersByKey = new Map<string, string[]>();
  for (const order of observation.orders)
    if (order.idempotency_key)
      ordersByKey.set(order.idempotency_key, [
        ...(ordersByKey.get(order.idempotency_key) ?? []),
        order.order_id,
      ]);
  for (const record of scope.records ?? []) {
    const matching = ordersByKey.get(orderServiceKey(record.customer, record.idempotencyKey)) ?? [];
    if (matching.length > 1)
      violate(
        'duplicate',
        matching[1] as string,
        `${matching.length} orders for key ${record.idempotencyKey}`,
      );
  }

  let capturedNetTotal = 0;
  let confirmedTotal = 0;
  for (const order of observation.orders) {
    const id = order.order_id;
    const saga = observation.sagas.get(id);
    // stuck: not terminal, or the order and its saga disagree.
    if (!TERMINAL_ORDER.has(order.status)) violate('stuck', id, `order is ${order.status}`);
    else if (!saga) violate('stuck', id, 'the order has no saga');
    else if (SAGA_STATE_OF[saga.phase] !== order.status)
      violate('stuck', id, `order is ${order.status} but its saga is ${saga.phase} (${saga.state})`);

    const total = Number(order.total_minor);
    const reservation = observation.reservations.get(id);
    const payment = observation.payments.get(id);
    const charges = observation.charges.get(id) ?? [];
    const sum = (kind: ChargeRow['kind']): number =>
      charges.filter((c) => c.kind === kind).reduce((acc, c) => acc + Number(c.amount_minor), 0);
    const count = (kind: ChargeRow['kind']): number => charges.filter((c) => c.kind === kind).length;
    const held = sum('AUTHORIZE') - sum('VOID') - sum('CAPTURE');
    const capturedNet = sum('CAPTURE') - sum('REFUND');
    capturedNetTotal += capturedNet;

    if (count('AUTHORIZE') > 1)
      violate('duplicate', id, `${count('AUTHORIZE')} approved authorizations at the provider`);
    if (count('CAPTURE') > 1) violate('duplicate', id, `${count('CAPTURE')} captures at the provider`);

    if (order.status === 'CONFIRMED') {
      confirmedTotal += total;
      if (reservation?.status !== 'RESERVED')
        violate('stock', id, `confirmed, but its reservation is ${reservation?.status ?? 'missing'}`);
      if (payment?.status !== 'CAPTURED' || Number(payment.amount_minor) !== total)
        violate(
          'money',
          id,
          `confirmed for ${total}, but its payment is ${payment?.status ?? 'missing'} (${payment?.amount_minor ?? '-'})`,
        );
      if (capturedNet !== total || held !== 0)
        violate(
          'money',
          id,
          `confirmed for ${total}; the provider has ${capturedNet} captured and ${held} held`,
        );
    } else if (TERMINAL_ORDER.has(order.status)) {
      if (reservation?.status === 'RESERVED')
        violate('stock', id, `${order.status}, but its stock is still reserved`);
      if (payment?.status === 'AUTHORIZED' || payment?.status === 'CAPTURED')
        violate('money', id, `${order.status}, but its payment is ${payment.status}`);
      if (capturedNet !== 0 || held !== 0)
        violate('money', id, `${order.status}; the provider has ${capturedNet} captured and ${held} held`);
    }
  }
  if (capturedNetTotal !== confirmedTotal && !found.get('money'))
    violate('money', 'total', `captured ${capturedNetTotal} ≠ confirmed totals ${confirmedTotal}`);

  // Stock: conservation against the run's starting stock, and reserved = what RESERVED reservations hold.
  for (const product of scope.products ?? []) {
    const row = observation.products.find((p) => p.product_id === product.productId);
    if (!row) {
      violate('stock', product.productId, 'product missing');
      continue;
    }
    const held = [...observation.reservations.values()]
      .filter((r) => r.status === 'RESERVED')
      .flatMap((r) => r.lines)
      .filter((line) => line.productId === product.productId)
      .reduce((acc, line) => acc + line.quantity, 0);
    if (row.available < 0 || row.reserved < 0)
      violate(
        'stock',
        product.productId,
        `negative stock (available ${row.available}, reserved ${row.reserved})`,
      );
    if (row.available + row.reserved !== product.stock)
      violate(
        'stock',
        product.productId,
        `available ${row.available} + reserved ${row.reserved} ≠ starting stock ${product.stock}`,
      );
    if (row.reserved !== held)
      violate('stock', product.productId, `reserved ${row.reserved}, but reservations hold ${held}`);
  }

  // Messages vs committed changes, both ways, for the orders in scope.
  const replies = (observation.replies ?? []).filter((m) => orders.has(String(m.payload['orderId'])));
  const repliesOf = (orderId: string, type: string): LoggedMessage[] =>
    replies.filter((m) => m.type === type && m.payload['orderId'] === orderId);
  for (const message of replies) {
    const id = String(message.payload['orderId']);
    const reservation = observation.reservations.get(id);
    const payment = observation.payments.get(id);
    if (
      message.type === 'inventory.StockReserved' &&
      reservation?.reservation_id !== message.payload['reservationId']
    )
      violate(
        'phantom-message',
        id,
        `StockReserved names reservation ${String(message.payload['reservationId'])}, which was never committed`,
      );
    if (message.type === 'payment.PaymentAuthorized' && payment?.payment_id !== message.payload['paymentId'])
      violate(
        'phantom-message',
        id,
        `PaymentAuthorized names payment ${String(message.payload['paymentId'])}, which was never committed`,
      );
    if (
      message.type === 'payment.PaymentCaptured' &&
      payment?.status !== 'CAPTURED' &&
      payment?.status !== 'REFUNDED'
    )
      violate('phantom-message', id, `PaymentCaptured, but the payment is ${payment?.status ?? 'missing'}`);
  }
  for (const order of observation.replies ? observation.orders : []) {
    const id = order.order_id;
    // A reservation's outcome was announced: StockReserved naming it, or StockReservationFailed. A RELEASED
    // row with lines may have been either (a rejected reservation keeps the lines it was asked for).
    const reservation = observation.reservations.get(id);
    const reserved = (r: ReservationRow): boolean =>
      repliesOf(id, 'inventory.StockReserved').some((m) => m.payload['reservationId'] === r.reservation_id);
    const failed = repliesOf(id, 'inventory.StockReservationFailed').length > 0;
    if (reservation?.status === 'RESERVED' && !reserved(reservation))
      violate(
        'lost-message',
        id,
        `reservation ${reservation.reservation_id} committed, no StockReserved published`,
      );
    if (reservation?.status === 'REJECTED' && !failed)
      violate('lost-message', id, `reservation rejected, no StockReservationFailed published`);
    if (
      reservation?.status === 'RELEASED' &&
      reservation.lines.length > 0 &&
      !reserved(reservation) &&
      !failed
    )
      violate(
        'lost-message',
        id,
        `reservation ${reservation.reservation_id} committed, its outcome never published`,
      );
    const payment = observation.payments.get(id);
    if (
      payment?.customer_id &&
      payment.status !== 'DECLINED' &&
      !repliesOf(id, 'payment.PaymentAuthorized').some((m) => m.payload['paymentId'] === payment.payment_id)
    )
      violate('lost-message', id, `payment ${payment.payment_id} authorized, no PaymentAuthorized published`);
    if (payment?.status === 'DECLINED' && repliesOf(id, 'payment.PaymentDeclined').length === 0)
      violate('lost-message', id, `payment declined, no PaymentDeclined published`);
  }
  // Each command processed once: one reply per command message (redelivered copies share the message id).
  const repliesPerCommand = new Map<string, Set<string>>();
  for (const message of replies) {
    if (!message.causationId) continue;
    const ids = repliesPerCommand.get(message.causationId) ?? new Set<string>();
    ids.add(message.messageId);
    repliesPerCommand.set(message.causationId, ids);
  }
  for (const [command, ids] of repliesPerCommand) {
    if (ids.size < 2) continue;
    const sample = replies.find((m) => m.causationId === command);
    violate(
      'duplicate',
      String(sample?.payload['orderId']),
      `command ${command} was processed ${ids.size} times (${ids.size} distinct replies)`,
    );
  }

  const invariants = (Object.keys(INVARIANTS) as InvariantName[]).map((name): InvariantVerdict => {
    const ids = found.get(name) ?? new Map<string, string>();
    const checked = observation.replies !== null || !MESSAGE_INVARIANTS.has(name);
    return {
      name,
      description: INVARIANTS[name],
      checked,
      holds: ids.size === 0,
      offending: [...ids.keys()].slice(0, 20),
      offendingCount: ids.size,
      details: [...ids.values()].slice(0, 20),
    };
  });
  return {
    at: at.toISOString(),
    ok: invariants.every((i) => i.holds),
    ordersChecked: observation.orders.length,
    invariants,
  };
}
