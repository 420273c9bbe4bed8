import {
  AuthorizePayment,
  CapturePayment,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentVoided,
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
  VoidPayment,
  type Money,
  type OrderLine,
} from '@saga-lab/contracts';
import { command, defineSaga, failure, onReply, success } from '@saga-lab/saga';

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

/**
 * Saga (orchestrated): the place-order saga, read top to bottom. Each step names the participant command,
 * what each reply means, and the compensation that undoes it — registered before the step runs.
 *
 *   PENDING → RESERVING_STOCK → AUTHORIZING_PAYMENT → CAPTURING_PAYMENT → CONFIRMED
 *               │ out of stock       │ declined / timeout      │ timeout
 *               ▼                    ▼                         ▼
 *            REJECTED   (VOIDING_PAYMENT →) RELEASING_STOCK → CANCELLED
 *
 * VoidPayment voids whatever the order holds at the provider: an authorization, or a capture (a refund).
 */
export const placeOrderSaga = (timeouts: PlaceOrderTimeouts = DEFAULT_TIMEOUTS) =>
  defineSaga<PlaceOrderData>({
    name: 'place-order',
    completedState: 'CONFIRMED',
    rejectedState: 'REJECTED',
    compensatedState: 'CANCELLED',
    compensationRetry: { baseMs: 1_000, maxMs: 30_000 },
    steps: [
      {
        name: 'reserve stock',
        state: 'RESERVING_STOCK',
        timeoutMs: timeouts.reserveStockMs,
        invoke: (order) => command(ReserveStock, { orderId: order.orderId, lines: [...order.lines] }),
        replies: [
          onReply(StockReserved, (order: PlaceOrderData, reply) =>
            success({ ...order, reservationId: reply.reservationId }),
          ),
          onReply(StockReservationFailed, (_order: PlaceOrderData, reply) =>
            failure(`stock: ${reply.reason}`),
          ),
        ],
        compensation: {
          state: 'RELEASING_STOCK',
          invoke: (order) => command(ReleaseStock, { orderId: order.orderId, reason: 'order cancelled' }),
          reply: StockReleased as never,
        },
      },
      {
        name: 'authorize payment',
        state: 'AUTHORIZING_PAYMENT',
        timeoutMs: timeouts.authorizePaymentMs,
        invoke: (order) =>
          command(AuthorizePayment, {
            orderId: order.orderId,
            customerId: order.customerId,
            amount: order.total,
          }),
        replies: [
          onReply(PaymentAuthorized, (order: PlaceOrderData, reply) =>
            success({ ...order, paymentId: reply.paymentId }),
          ),
          onReply(PaymentDeclined, (_order: PlaceOrderData, reply) => failure(`payment: ${reply.reason}`)),
        ],
        compensation: {
          state: 'VOIDING_PAYMENT',
          invoke: (order) => command(VoidPayment, { orderId: order.orderId, reason: 'order cancelled' }),
          reply: PaymentVoided as never,
        },
      },
      {
        name: 'capture payment',
        state: 'CAPTURING_PAYMENT',
        timeoutMs: timeouts.capturePaymentMs,
        invoke: (order) => command(CapturePayment, { orderId: order.orderId }),
        replies: [onReply(PaymentCaptured, (order: PlaceOrderData) => success(order))],
        // No compensation of its own: the payment step's VoidPayment also refunds a capture.
      },
    ],
  });
