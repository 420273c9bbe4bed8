import { AppError } from './app-error';

/**
 * Codes that libraries we do not own put on errors that pass by themselves. PostgreSQL aborted the
 * transaction because it lost a race with another one — 40001 serialization_failure and 40P01
 * deadlock_detected, which its manual says to handle by running the transaction again, and 55P03
 * lock_not_available, a lock wait that timed out before the holder committed; or the database or a peer
 * was out of reach for a moment: 57P01 admin_shutdown, 57P03 cannot_connect_now, and Node's ECONNREFUSED
 * and ECONNRESET. pg's errors, and TypeORM's QueryFailedError that wraps them, carry the SQLSTATE in `code`.
 */
const TRANSIENT_CODES: ReadonlySet<unknown> = new Set([
  '40001',
  '40P01',
  '55P03',
  '57P01',
  '57P03',
  'ECONNREFUSED',
  'ECONNRESET',
]);

/**
 * Whether a failure may pass if the same work is tried again. An AppError says so itself. Anything else
 * is taken for a programmer error — a TypeError, a broken invariant, a failure nobody classified — that
 * would fail the same way on every attempt while its retries hide it, so it is not retried; the only
 * exceptions are the transient codes above. An object that merely carries `retriable: true` does not
 * count: that duck typing is what this replaces, and kafkajs, the one library here that marks its errors
 * so, is recognised by its class where it is used (libs/messaging).
 */
export function isRetriable(error: unknown): boolean {
  if (error instanceof AppError) return error.retriable;
  if (!(error instanceof Error)) return false;
  return TRANSIENT_CODES.has((error as { code?: unknown }).code) || LOST_CONNECTION.test(error.message);
}

/**
 * pg reports a connection that went away (PostgreSQL restarted, a proxy cut it) and a pool that could not
 * hand one out in time with no code at all, only these messages (pg/lib/client.js, pg-pool); TypeORM's
 * QueryFailedError keeps the driver's message. A database restart must not send in-flight messages to
 * the DLQ, so these count as transient too.
 */
const LOST_CONNECTION =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|timeout exceeded when trying to connect)$/;
