import type { AnyMessage } from './envelope';
import {
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
} from './inventory/messages';
import {
  AuthorizePayment,
  CapturePayment,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentVoidedOrRefunded,
  VoidOrRefundPayment,
} from './payment/messages';

/** The replies one command can be answered with, by name: `{ StockReserved, StockReservationFailed }`. */
export type Replies = Readonly<Record<string, AnyMessage>>;

/** A command and every reply that may answer it. */
export interface Exchange<C extends AnyMessage = AnyMessage, R extends Replies = Replies> {
  readonly command: C;
  readonly replies: R;
}

/**
 * Participant: one operation of a saga participant — its command, every reply it sends back, and, when the
 * operation has an effect to undo, the compensating command with its replies. A saga step is declared
 * against one of these, so the compiler (not a cast) ties the step to the replies the participant sends.
 */
export interface Operation<C extends AnyMessage = AnyMessage, R extends Replies = Replies> extends Exchange<
  C,
  R
> {
  readonly compensation?: Exchange;
}

/** An operation with an effect to undo. */
export interface CompensableOperation<
  C extends AnyMessage = AnyMessage,
  R extends Replies = Replies,
  UC extends AnyMessage = AnyMessage,
  UR extends Replies = Replies,
> extends Exchange<C, R> {
  readonly compensation: Exchange<UC, UR>;
}

/** The inventory service as a saga participant. */
export const Inventory = {
  reserveStock: {
    command: ReserveStock,
    replies: { StockReserved, StockReservationFailed },
    compensation: { command: ReleaseStock, replies: { StockReleased } },
  },
} as const satisfies Record<string, Operation>;

/** The payment service as a saga participant. */
export const Payment = {
  authorizePayment: {
    command: AuthorizePayment,
    replies: { PaymentAuthorized, PaymentDeclined },
    // One compensation for the money, whatever stage it reached: void an authorization, refund a capture.
    compensation: { command: VoidOrRefundPayment, replies: { PaymentVoidedOrRefunded } },
  },
  capturePayment: {
    command: CapturePayment,
    replies: { PaymentCaptured },
  },
} as const satisfies Record<string, Operation>;
