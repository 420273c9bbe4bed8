import { Inventory, Payment, type Money, type OrderLine } from '@saga-lab/contracts';
import { defineSaga, failure, stepsOf, success } from '@saga-lab/saga';

export interface PlaceOrderData {
  readonly orderId: string;
  readonly customerId: string;
  readonly lines: readonly OrderLine[];
  readonly total: Money;
  readonly reservationId?: string;
  readonly paymentId?: string;
}

export interface PlaceOrderTimeouts {
  readonly reserveStockMs: number;
  readonly authorizePaymentMs: number;
  readonly capturePaymentMs: number;
}

export const DEFAULT_TIMEOUTS: PlaceOrderTimeouts = {
  reserveStockMs: 10_000,
  authorizePaymentMs: 5_000,
  capturePaymentMs: 5_000,
};

const step = stepsOf<PlaceOrderData>();

/**
 * Saga (orchestrated): the place-order saga, read top to bottom. Each step is declared against a
 * participant operation (libs/contracts/src/participants.ts): the command it sends, what each reply that
 * participant may send means, and the compensation that undoes it — registered before the step runs.
 *
 *   PENDING → RESERVING_STOCK → AUTHORIZING_PAYMENT → CAPTURING_PAYMENT → CONFIRMED
 *               │ out of stock       │ declined / timeout      │ timeout
 *               ▼                    ▼                         ▼
 *            REJECTED   (VOIDING_OR_REFUNDING_PAYMENT →) RELEASING_STOCK → CANCELLED
 *
 * VoidOrRefundPayment gives back whatever the order holds at the provider: it voids an authorization, or
 * refunds a capture, and its reply says which (kept in the saga's history).
 */
export const placeOrderSaga = (timeouts: PlaceOrderTimeouts = DEFAULT_TIMEOUTS) =>
  defineSaga<PlaceOrderData>({
    name: 'place-order',
    completedState: 'CONFIRMED',
    rejectedState: 'REJECTED',
    compensatedState: 'CANCELLED',
    compensationRetry: { baseMs: 1_000, maxMs: 30_000 },
    steps: [
      step(Inventory.reserveStock, {
        name: 'reserve stock',
        state: 'RESERVING_STOCK',
        timeoutMs: timeouts.reserveStockMs,
        invoke: (order) => ({ orderId: order.orderId, lines: [...order.lines] }),
        replies: {
          StockReserved: (order, reply) => success({ ...order, reservationId: reply.reservationId }),
          StockReservationFailed: (_order, reply) => failure(`stock: ${reply.reason}`),
        },
        compensation: {
          state: 'RELEASING_STOCK',
          invoke: (order) => ({ orderId: order.orderId, reason: 'order cancelled' }),
          replies: {
            StockReleased: (_order, reply) => (reply.released ? 'stock released' : 'no stock held'),
          },
        },
      }),
      step(Payment.authorizePayment, {
        name: 'authorize payment',
        state: 'AUTHORIZING_PAYMENT',
        timeoutMs: timeouts.authorizePaymentMs,
        invoke: (order) => ({ orderId: order.orderId, customerId: order.customerId, amount: order.total }),
        replies: {
          PaymentAuthorized: (order, reply) => success({ ...order, paymentId: reply.paymentId }),
          PaymentDeclined: (_order, reply) => failure(`payment: ${reply.reason}`),
        },
        compensation: {
          state: 'VOIDING_OR_REFUNDING_PAYMENT',
          invoke: (order) => ({ orderId: order.orderId, reason: 'order cancelled' }),
          replies: { PaymentVoidedOrRefunded: (_order, reply) => `payment ${reply.outcome}` },
        },
      }),
      // No compensation of its own: the payment step's VoidOrRefundPayment also refunds a capture.
      step(Payment.capturePayment, {
        name: 'capture payment',
        state: 'CAPTURING_PAYMENT',
        timeoutMs: timeouts.capturePaymentMs,
        invoke: (order) => ({ orderId: order.orderId }),
        replies: { PaymentCaptured: (order) => success(order) },
      }),
    ],
  });
