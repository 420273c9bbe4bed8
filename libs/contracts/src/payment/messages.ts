import { z } from 'zod';
import { defineMessage } from '../envelope';
import { customerId, money, orderId } from '../common';
import { TOPICS } from '../topics';

const byOrder = (p: { orderId: string }): string => p.orderId;
const paymentId = z.uuid();

/** Command (saga → payment): authorize the order's total. Idempotent per order. */
export const AuthorizePayment = defineMessage({
  type: 'payment.AuthorizePayment',
  schemaVersion: 1,
  kind: 'command',
  topic: TOPICS.paymentCommands,
  payload: z.object({ orderId, customerId, amount: money }),
  key: byOrder,
});

export const PaymentAuthorized = defineMessage({
  type: 'payment.PaymentAuthorized',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.paymentReplies,
  payload: z.object({ orderId, paymentId, amount: money }),
  key: byOrder,
});

export const PaymentDeclined = defineMessage({
  type: 'payment.PaymentDeclined',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.paymentReplies,
  payload: z.object({ orderId, reason: z.enum(['DECLINED', 'PROVIDER_UNAVAILABLE']) }),
  key: byOrder,
});

/** Command (saga → payment): capture an authorization once the order is confirmed. */
export const CapturePayment = defineMessage({
  type: 'payment.CapturePayment',
  schemaVersion: 1,
  kind: 'command',
  topic: TOPICS.paymentCommands,
  payload: z.object({ orderId }),
  key: byOrder,
});

export const PaymentCaptured = defineMessage({
  type: 'payment.PaymentCaptured',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.paymentReplies,
  payload: z.object({ orderId, paymentId, amount: money }),
  key: byOrder,
});

/**
 * Compensation (saga → payment): give back whatever the order holds at the provider — void an
 * authorization, refund a capture. Idempotent; an order that holds nothing succeeds with NOTHING_HELD (and
 * leaves a tombstone, so that a late AuthorizePayment cannot charge it afterwards).
 */
export const VoidOrRefundPayment = defineMessage({
  type: 'payment.VoidOrRefundPayment',
  schemaVersion: 1,
  kind: 'command',
  topic: TOPICS.paymentCommands,
  payload: z.object({ orderId, reason: z.string().min(1).max(200) }),
  key: byOrder,
});

/** Which of the two happened: an authorization voided, a capture refunded, or nothing held. */
export const PaymentVoidedOrRefunded = defineMessage({
  type: 'payment.PaymentVoidedOrRefunded',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.paymentReplies,
  payload: z.object({ orderId, outcome: z.enum(['VOIDED', 'REFUNDED', 'NOTHING_HELD']) }),
  key: byOrder,
});
