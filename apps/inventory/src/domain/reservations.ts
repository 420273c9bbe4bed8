import type { OrderLine } from '@saga-lab/contracts';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';

export type ReserveResult =
  | { readonly ok: true; readonly reservationId: string; readonly lines: readonly OrderLine[] }
  | {
      readonly ok: false;
      readonly reason: 'OUT_OF_STOCK' | 'UNKNOWN_PRODUCT' | 'ORDER_RELEASED';
      readonly unavailable: readonly { productId: string; requested: number; available: number }[];
    };

export type ReservationStatus = 'RESERVED' | 'REJECTED' | 'RELEASED';

interface ReservationRow {
  reservation_id: string;
  status: ReservationStatus;
  lines: OrderLine[];
}

/**
 * An order's reservation as it stands. `lines` are what was reserved (RESERVED, and RELEASED after it) or
 * requested (REJECTED); a RELEASED tombstone, written when the release came first, has none.
 */
export interface Reservation {
  readonly orderId: string;
  readonly reservationId: string;
  readonly status: ReservationStatus;
  readonly lines: readonly OrderLine[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

export async function findReservation(
  manager: EntityManager,
  orderId: string,
): Promise<Reservation | undefined> {
  const rows = (await manager.query(
    'SELECT order_id, reservation_id, status, lines, created_at, updated_at FROM reservations WHERE order_id = $1',
    [orderId],
  )) as (ReservationRow & { order_id: string; created_at: Date; updated_at: Date })[];
  const row = rows[0];
  return (
    row && {
      orderId: row.order_id,
      reservationId: row.reservation_id,
      status: row.status,
      lines: row.lines,
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    }
  );
}

async function existing(manager: EntityManager, orderId: string): Promise<ReservationRow | undefined> {
  // FOR UPDATE: two deliveries of commands for one order serialise here.
  const rows = (await manager.query(
    'SELECT reservation_id, status, lines FROM reservations WHERE order_id = $1 FOR UPDATE',
    [orderId],
  )) as ReservationRow[];
  return rows[0];
}

/**
 * Reserves every line of an order or none, idempotently per order: a repeated command (a saga retry with
 * a new message id) gets the first answer again. Runs inside the caller's transaction (with the inbox
 * record and the reply in the outbox).
 *
 * Products are locked in id order (no deadlock between orders sharing products), checked, then changed
 * with conditional updates; the CHECK constraints make a negative stock impossible even for a bug here.
 */
export async function reserveStock(
  manager: EntityManager,
  orderId: string,
  lines: readonly OrderLine[],
): Promise<ReserveResult> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [orderId]); // first command for an order: no row to lock yet
  const previous = await existing(manager, orderId);
  if (previous?.status === 'RESERVED')
    return { ok: true, reservationId: previous.reservation_id, lines: previous.lines };
  if (previous?.status === 'RELEASED') return { ok: false, reason: 'ORDER_RELEASED', unavailable: [] };

  const ids = [...lines.map((l) => l.productId)].sort();
  const stock = (await manager.query(
    'SELECT product_id, available FROM products WHERE product_id = ANY($1) ORDER BY product_id FOR UPDATE',
    [ids],
  )) as {
    product_id: string;
    available: number;
  }[];
  const availableOf = new Map(stock.map((s) => [s.product_id, s.available]));
  const unknown = lines.filter((l) => !availableOf.has(l.productId));
  const short = lines.filter((l) => (availableOf.get(l.productId) ?? 0) < l.quantity);
  if (unknown.length > 0 || short.length > 0) {
    const unavailable = (unknown.length > 0 ? unknown : short).map((l) => ({
      productId: l.productId,
      requested: l.quantity,
      available: availableOf.get(l.productId) ?? 0,
    }));
    const reason = unknown.length > 0 ? 'UNKNOWN_PRODUCT' : 'OUT_OF_STOCK';
    if (!previous) {
      await manager.query(
        `INSERT INTO reservations (order_id, reservation_id, status, lines) VALUES ($1, $2, 'REJECTED', $3)`,
        [orderId, randomUUID(), JSON.stringify(lines)],
      );
    }
    return { ok: false, reason, unavailable };
  }

  for (const line of [...lines].sort((a, b) => a.productId.localeCompare(b.productId))) {
    const updated = (await manager.query(
      `UPDATE products SET available = available - $2, reserved = reserved + $2, version = version + 1, updated_at = now()
        WHERE product_id = $1 AND available >= $2 RETURNING product_id`,
      [line.productId, line.quantity],
    )) as [unknown[], number];
    if (updated[1] !== 1)
      throw new Error(`conditional update of ${line.productId} failed after its row was locked`);
  }
  const reservationId = randomUUID();
  if (previous) {
    // A REJECTED order retried after a restock: reserve under the same row.
    await manager.query(
      `UPDATE reservations SET status = 'RESERVED', reservation_id = $2, lines = $3, updated_at = now() WHERE order_id = $1`,
      [orderId, reservationId, JSON.stringify(lines)],
    );
  } else {
    await manager.query(
      `INSERT INTO reservations (order_id, reservation_id, status, lines) VALUES ($1, $2, 'RESERVED', $3)`,
      [orderId, reservationId, JSON.stringify(lines)],
    );
  }
  return { ok: true, reservationId, lines };
}

/**
 * Gives an order's reserved stock back. Idempotent: releasing twice, or releasing an order that never
 * reserved, succeeds with `released: false` — and leaves a RELEASED tombstone so that a ReserveStock
 * arriving late (after the saga gave up on it) cannot reserve anything.
 */
export async function releaseStock(manager: EntityManager, orderId: string): Promise<{ released: boolean }> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [orderId]);
  const previous = await existing(manager, orderId);
  if (!previous) {
    await manager.query(
      `INSERT INTO reservations (order_id, reservation_id, status, lines) VALUES ($1, $2, 'RELEASED', '[]')`,
      [orderId, randomUUID()],
    );
    return { released: false };
  }
  if (previous.status !== 'RESERVED') {
    if (previous.status === 'REJECTED')
      await manager.query(
        `UPDATE reservations SET status = 'RELEASED', updated_at = now() WHERE order_id = $1`,
        [orderId],
      );
    return { released: false };
  }
  for (const line of [...previous.lines].sort((a, b) => a.productId.localeCompare(b.productId))) {
    await manager.query(
      `UPDATE products SET available = available + $2, reserved = reserved - $2, version = version + 1, updated_at = now() WHERE product_id = $1`,
      [line.productId, line.quantity],
    );
  }
  await manager.query(`UPDATE reservations SET status = 'RELEASED', updated_at = now() WHERE order_id = $1`, [
    orderId,
  ]);
  return { released: true };
}
