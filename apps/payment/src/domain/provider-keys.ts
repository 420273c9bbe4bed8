import { randomUUID } from 'node:crypto';

export type ProviderOperation = 'authorize' | 'capture' | 'void' | 'refund';

// Idempotency key: derived from the order and the operation, never from the message or the attempt, so a
// retry after a timeout or a lost response presents the same key and finds the charge the provider already
// made instead of making a second one.
export const keyFor = (operation: ProviderOperation, orderId: string): string => `${operation}:${orderId}`;

/** How the service names its provider calls: the idempotency key of one attempt at an operation. */
export interface ProviderKeys {
  /** Whether a retry presents the key of the first attempt (false only in the failure lab's unsafe mode). */
  readonly stable: boolean;
  key(operation: ProviderOperation, orderId: string): string;
}

/** The safe strategy: one key per order and operation, whatever the attempt. */
export const ORDER_KEYS: ProviderKeys = Object.freeze({ stable: true, key: keyFor });

/**
 * The failure lab's unsafe strategy (safeguard `provider-idempotency` off): authorize and capture get a
 * fresh key per attempt, so the provider cannot recognise a retry after a timeout or a lost response and
 * acts on it again — a second authorization hold, a second capture attempt. Void and refund keep their
 * order keys: they are compensations, and the lab shows what breaks on the charging side.
 */
export const PER_ATTEMPT_KEYS: ProviderKeys = Object.freeze({
  stable: false,
  key: (operation: ProviderOperation, orderId: string): string =>
    operation === 'authorize' || operation === 'capture'
      ? `${keyFor(operation, orderId)}:${randomUUID()}`
      : keyFor(operation, orderId),
});

/** The strategy for the `provider-idempotency` safeguard's switch. */
export const providerKeys = (idempotent: boolean): ProviderKeys =>
  idempotent ? ORDER_KEYS : PER_ATTEMPT_KEYS;
