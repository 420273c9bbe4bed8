import type { Money } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { PaymentProvider } from '../provider/payment-provider';

export interface AuthorizeCommand {
  readonly orderId: string;
  readonly customerId: string;
  readonly amount: Money;
}

export type AuthorizeResult =
  | { readonly ok: true; readonly paymentId: string; readonly amount: Money }
  | { readonly ok: false; readonly reason: 'DECLINED' };

export interface CaptureResult {
  readonly ok: true;
  readonly paymentId: string;
  readonly amount: Money;
}

export type PaymentErrorCode = 'PAYMENT_NOT_CAPTURABLE' | 'PAYMENT_MISMATCH' | 'CAPTURE_DECLINED';

/** A command that cannot succeed however often it is delivered; the messaging layer sends it to the DLQ. */
export class PaymentError extends AppError<PaymentErrorCode> {
  constructor(code: PaymentErrorCode, message: string) {
    super(code, message);
  }
}

export type PaymentStatus = 'AUTHORIZED' | 'DECLINED' | 'CAPTURED' | 'VOIDED' | 'REFUNDED';

/** An order's payment as it stands. `amount` is null only on a VOIDED tombstone that never held money. */
export interface Payment {
  readonly orderId: string;
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly amount: Money | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

interface PaymentRow {
  payment_id: string;
  status: PaymentStatus;
  amount_minor: string | null; // bigint arrives as a string
  currency: string | null;
  provider_ref: string | null;
}

export async function findPayment(manager: EntityManager, orderId: string): Promise<Payment | undefined> {
  const rows = (await manager.query(
    `SELECT order_id, payment_id, status, amount_minor, currency, created_at, updated_at FROM payments WHERE order_id = $1`,
    [orderId],
  )) as (Omit<PaymentRow, 'provider_ref'> & { order_id: string; created_at: Date; updated_at: Date })[];
  const row = rows[0];
  return (
    row && {
      orderId: row.order_id,
      paymentId: row.payment_id,
      status: row.status,
      amount:
        row.amount_minor === null || row.currency === null
          ? null
          : { amountMinor: Number(row.amount_minor), currency: row.currency },
      createdAt: row.created_at.toISOString(),
      updatedAt: row.updated_at.toISOString(),
    }
  );
}

// Idempotency key: derived from the order and the operation, never from the message or the attempt, so a
// retry after a timeout or a lost response presents the same key and finds the charge the provider already
// made instead of making a second one.
const keyFor = (operation: 'authorize' | 'capture' | 'void' | 'refund', orderId: string): string =>
  `${operation}:${orderId}`;

async function lockOrder(manager: EntityManager, orderId: string): Promise<void> {
  // First command for an order: no row to lock yet. Also keeps two deliveries from both calling the provider.
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [orderId]);
}

async function existing(manager: EntityManager, orderId: string): Promise<PaymentRow | undefined> {
  const rows = (await manager.query(
    `SELECT payment_id, status, amount_minor, currency, provider_ref FROM payments WHERE order_id = $1 FOR UPDATE`,
    [orderId],
  )) as PaymentRow[];
  return rows[0];
}

function moneyOf(row: PaymentRow): Money {
  const amountMinor = Number(row.amount_minor);
  if (row.amount_minor === null || row.currency === null || !Number.isSafeInteger(amountMinor))
    throw new Error(`payment ${row.payment_id} (${row.status}) has no valid amount`);
  return { amountMinor, currency: row.currency };
}

function refOf(row: PaymentRow): string {
  if (row.provider_ref === null)
    throw new Error(`payment ${row.payment_id} (${row.status}) has no provider ref`);
  return row.provider_ref;
}

async function setStatus(manager: EntityManager, orderId: string, status: PaymentStatus): Promise<void> {
  await manager.query(`UPDATE payments SET status = $2, updated_at = now() WHERE order_id = $1`, [
    orderId,
    status,
  ]);
}

/**
 * Authorizes an order's total, idempotently per order: a repeated command (a saga retry with a new message
 * id) gets the first outcome again and charges nothing. Runs inside the caller's transaction (with the inbox
 * record and the reply in the outbox).
 *
 * The provider call is not part of that transaction: if it rolls back after the provider authorized, the
 * authorization stays, and the redelivered command's retry finds it through the idempotency key. Retriable
 * provider errors (timeout, lost response) propagate for the messaging layer to redeliver the command.
 */
export async function authorizePayment(
  manager: EntityManager,
  provider: PaymentProvider,
  command: AuthorizeCommand,
): Promise<AuthorizeResult> {
  const { orderId, customerId, amount } = command;
  await lockOrder(manager, orderId);
  const previous = await existing(manager, orderId);
  if (previous?.status === 'AUTHORIZED' || previous?.status === 'CAPTURED') {
    const recorded = moneyOf(previous);
    if (recorded.amountMinor !== amount.amountMinor || recorded.currency !== amount.currency)
      throw new PaymentError(
        'PAYMENT_MISMATCH',
        `order ${orderId} was authorized for ${recorded.amountMinor} ${recorded.currency}, not ${amount.amountMinor} ${amount.currency}`,
      );
    return { ok: true, paymentId: previous.payment_id, amount: recorded };
  }
  // DECLINED stays declined; VOIDED or REFUNDED means the saga already compensated this order, so a late
  // command must not charge the customer again.
  if (previous) return { ok: false, reason: 'DECLINED' };

  const charge = await provider.authorize({ idempotencyKey: keyFor('authorize', orderId), orderId, amount });
  const status = charge.outcome === 'APPROVED' ? 'AUTHORIZED' : 'DECLINED';
  const paymentId = randomUUID();
  await manager.query(
    `INSERT INTO payments (order_id, payment_id, customer_id, amount_minor, currency, status, provider_ref)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [
      orderId,
      paymentId,
      customerId,
      charge.amount.amountMinor,
      charge.amount.currency,
      status,
      charge.providerRef,
    ],
  );
  return status === 'AUTHORIZED'
    ? { ok: true, paymentId, amount: charge.amount }
    : { ok: false, reason: 'DECLINED' };
}

/**
 * Captures an order's authorization once the order is confirmed. Idempotent: capturing a captured payment
 * returns it again. Anything else (no payment, declined, voided) is a non-retriable PaymentError.
 */
export async function capturePayment(
  manager: EntityManager,
  provider: PaymentProvider,
  orderId: string,
): Promise<CaptureResult> {
  await lockOrder(manager, orderId);
  const previous = await existing(manager, orderId);
  if (previous?.status === 'CAPTURED')
    return { ok: true, paymentId: previous.payment_id, amount: moneyOf(previous) };
  if (previous?.status !== 'AUTHORIZED')
    throw new PaymentError(
      'PAYMENT_NOT_CAPTURABLE',
      `order ${orderId} has ${previous ? `a ${previous.status} payment` : 'no payment'}; only an authorization can be captured`,
    );

  const amount = moneyOf(previous);
  const capture = await provider.capture({
    idempotencyKey: keyFor('capture', orderId),
    orderId,
    authorizationRef: refOf(previous),
    amount,
  });
  if (capture.outcome !== 'APPROVED')
    throw new PaymentError('CAPTURE_DECLINED', `the provider declined capturing order ${orderId}`);
  await setStatus(manager, orderId, 'CAPTURED');
  return { ok: true, paymentId: previous.payment_id, amount };
}

/** What giving an order's money back did: voided an authorization, refunded a capture, or found nothing held. */
export type VoidOrRefundOutcome = 'VOIDED' | 'REFUNDED' | 'NOTHING_HELD';

/**
 * Gives an order's money back (compensation): voids an authorization, refunds a capture, and says which.
 * Idempotent: a second call, or a call for an order with no payment, finds NOTHING_HELD — and the latter
 * leaves a VOIDED tombstone, so that an AuthorizePayment arriving late (after the saga gave up on it)
 * cannot charge.
 */
export async function voidOrRefundPayment(
  manager: EntityManager,
  provider: PaymentProvider,
  orderId: string,
): Promise<{ outcome: VoidOrRefundOutcome }> {
  await lockOrder(manager, orderId);
  const previous = await existing(manager, orderId);
  if (!previous) return voidUnrecorded(manager, provider, orderId);
  if (previous.status === 'AUTHORIZED') {
    await provider.voidAuthorization({
      idempotencyKey: keyFor('void', orderId),
      orderId,
      authorizationRef: refOf(previous),
    });
    await setStatus(manager, orderId, 'VOIDED');
    return { outcome: 'VOIDED' };
  }
  if (previous.status === 'CAPTURED') {
    await provider.refund({
      idempotencyKey: keyFor('refund', orderId),
      orderId,
      authorizationRef: refOf(previous),
      amount: moneyOf(previous),
    });
    await setStatus(manager, orderId, 'REFUNDED');
    return { outcome: 'REFUNDED' };
  }
  return { outcome: 'NOTHING_HELD' }; // DECLINED, VOIDED, REFUNDED: nothing (left) to give back
}

async function voidUnrecorded(
  manager: EntityManager,
  provider: PaymentProvider,
  orderId: string,
): Promise<{ outcome: VoidOrRefundOutcome }> {
  // Reconciliation: the provider may hold an authorization this service never recorded — its response was
  // lost, and the saga gave up before a retry got through. The authorize idempotency key finds it.
  const orphan = await provider.find(keyFor('authorize', orderId));
  const approved = orphan?.outcome === 'APPROVED' ? orphan : undefined;
  if (approved)
    await provider.voidAuthorization({
      idempotencyKey: keyFor('void', orderId),
      orderId,
      authorizationRef: approved.providerRef,
    });
  // Tombstone: a VOIDED row with no customer, which a late AuthorizePayment finds and declines.
  await manager.query(
    `INSERT INTO payments (order_id, payment_id, amount_minor, currency, status, provider_ref)
       VALUES ($1, $2, $3, $4, 'VOIDED', $5)`,
    [
      orderId,
      randomUUID(),
      approved?.amount.amountMinor ?? null,
      approved?.amount.currency ?? null,
      approved?.providerRef ?? null,
    ],
  );
  return { outcome: approved ? 'VOIDED' : 'NOTHING_HELD' };
}
