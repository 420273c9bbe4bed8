import type { Money } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { randomUUID } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { ProviderRejected, type PaymentProvider, type ProviderCharge } from '../provider/payment-provider';
import { ORDER_KEYS, keyFor, type ProviderKeys } from './provider-keys';

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

export interface PaymentRow {
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

/**
 * The per-order lock every change to an order's payment takes, for the rest of the caller's transaction:
 * commands and the reconciliation job alike. A lock on the order id rather than on the row, because the
 * first command for an order has no row to lock yet; it also keeps two deliveries from both calling the
 * provider.
 */
export async function lockOrder(manager: EntityManager, orderId: string): Promise<void> {
  await manager.query('SELECT pg_advisory_xact_lock(hashtext($1))', [orderId]);
}

/** The order's payment row, locked for update; read under `lockOrder`. */
export async function existing(manager: EntityManager, orderId: string): Promise<PaymentRow | undefined> {
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
  keys: ProviderKeys = ORDER_KEYS,
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

  const charge = await provider.authorize({
    idempotencyKey: keys.key('authorize', orderId),
    orderId,
    amount,
  });
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
  keys: ProviderKeys = ORDER_KEYS,
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
    idempotencyKey: keys.key('capture', orderId),
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
  keys: ProviderKeys = ORDER_KEYS,
  /** Ask the provider's ledger before voiding (off only in the lab, with safeguard `reconciliation`). */
  reconcile = true,
): Promise<{ outcome: VoidOrRefundOutcome }> {
  await lockOrder(manager, orderId);
  const previous = await existing(manager, orderId);
  if (!previous) return voidUnrecorded(manager, provider, orderId, keys);
  if (previous.status === 'AUTHORIZED')
    return voidAuthorized(manager, provider, previous, orderId, keys, reconcile);
  if (previous.status === 'CAPTURED') {
    await provider.refund({
      idempotencyKey: keys.key('refund', orderId),
      orderId,
      authorizationRef: refOf(previous),
      amount: moneyOf(previous),
    });
    await setStatus(manager, orderId, 'REFUNDED');
    return { outcome: 'REFUNDED' };
  }
  return { outcome: 'NOTHING_HELD' }; // DECLINED, VOIDED, REFUNDED: nothing (left) to give back
}

/**
 * The capture the provider recorded for an order under the capture key, if it approved one. The row can
 * say AUTHORIZED while the provider captured: the capture's response was lost, or the call timed out and
 * the provider acted on it afterwards, and the saga gave up on the capture before a retry recorded it.
 * (With per-attempt keys — the lab's unsafe mode — the key finds nothing: that capture stays unknown.)
 */
async function approvedCapture(
  provider: PaymentProvider,
  orderId: string,
): Promise<ProviderCharge | undefined> {
  const capture = await provider.find(keyFor('capture', orderId));
  return capture?.kind === 'CAPTURE' && capture.outcome === 'APPROVED' ? capture : undefined;
}

/**
 * Compensates an authorization the service recorded. A void is only right if nothing was captured, and
 * the provider refuses to void a captured authorization (for good: the command would end in the DLQ with
 * the money still taken), so the provider is asked first whether the capture key was recorded; if it was,
 * the capture is refunded instead. A capture landing between that question and the void (a timed-out
 * capture the provider acts on late) makes the provider refuse the void; asking again then finds it.
 * Every provider call carries its order key, so a redelivery after any failure repeats nothing.
 */
async function voidAuthorized(
  manager: EntityManager,
  provider: PaymentProvider,
  previous: PaymentRow,
  orderId: string,
  keys: ProviderKeys,
  reconcile: boolean,
): Promise<{ outcome: VoidOrRefundOutcome }> {
  const authorizationRef = refOf(previous);
  let capture = reconcile ? await approvedCapture(provider, orderId) : undefined;
  if (!capture) {
    try {
      await provider.voidAuthorization({
        idempotencyKey: keys.key('void', orderId),
        orderId,
        authorizationRef,
      });
      await setStatus(manager, orderId, 'VOIDED');
      return { outcome: 'VOIDED' };
    } catch (error) {
      if (!(error instanceof ProviderRejected) || !reconcile) throw error;
      capture = await approvedCapture(provider, orderId);
      if (!capture) throw error;
    }
  }
  await provider.refund({
    idempotencyKey: keys.key('refund', orderId),
    orderId,
    authorizationRef,
    amount: capture.amount,
  });
  await setStatus(manager, orderId, 'REFUNDED');
  return { outcome: 'REFUNDED' };
}

/**
 * Writes the VOIDED tombstone of an order the service has no payment row for: a row with no customer,
 * which a late AuthorizePayment finds and declines. `voided` is the authorization voided with it, if any.
 */
export async function insertTombstone(
  manager: EntityManager,
  orderId: string,
  voided: Pick<ProviderCharge, 'providerRef' | 'amount'> | undefined,
): Promise<void> {
  await manager.query(
    `INSERT INTO payments (order_id, payment_id, amount_minor, currency, status, provider_ref)
       VALUES ($1, $2, $3, $4, 'VOIDED', $5)`,
    [
      orderId,
      randomUUID(),
      voided?.amount.amountMinor ?? null,
      voided?.amount.currency ?? null,
      voided?.providerRef ?? null,
    ],
  );
}

async function voidUnrecorded(
  manager: EntityManager,
  provider: PaymentProvider,
  orderId: string,
  keys: ProviderKeys,
): Promise<{ outcome: VoidOrRefundOutcome }> {
  // The provider may hold an authorization this service never recorded — its response was lost, and the
  // saga gave up before a retry got through. The authorize idempotency key finds it. It cannot find an
  // authorization that has not landed yet (a timed-out call the provider acts on after this tombstone), nor
  // one made under a per-attempt key: the reconciliation job (reconciliation.ts) voids those later.
  const orphan = await provider.find(keyFor('authorize', orderId));
  const approved = orphan?.outcome === 'APPROVED' ? orphan : undefined;
  if (approved)
    await provider.voidAuthorization({
      idempotencyKey: keys.key('void', orderId),
      orderId,
      authorizationRef: approved.providerRef,
    });
  await insertTombstone(manager, orderId, approved);
  return { outcome: approved ? 'VOIDED' : 'NOTHING_HELD' };
}
