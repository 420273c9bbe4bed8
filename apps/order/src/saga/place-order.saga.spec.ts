import {
  AuthorizePayment,
  CapturePayment,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentVoidedOrRefunded,
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
  VoidOrRefundPayment,
} from '@saga-lab/contracts';
import { SagaScenario } from '@saga-lab/saga';
import { placeOrderSaga, type PlaceOrderData } from './place-order.saga';

const orderId = '6c2f4d0e-3b1a-4c59-9e0f-1a2b3c4d5e6f';
const reservationId = '0f1e2d3c-4b5a-4697-8877-665544332211';
const paymentId = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const total = { amountMinor: 2_598, currency: 'EUR' };
const order: PlaceOrderData = {
  orderId,
  customerId: 'c-ada',
  lines: [{ productId: 'espresso-beans', quantity: 2 }],
  total,
};
const saga = placeOrderSaga({ reserveStockMs: 10_000, authorizePaymentMs: 5_000, capturePaymentMs: 5_000 });

const given = (): SagaScenario<PlaceOrderData> => SagaScenario.given(saga, order);
const reserved = { orderId, reservationId, lines: [...order.lines] };

describe('place-order saga', () => {
  it('happy path: reserve, authorize, capture → CONFIRMED', () => {
    const scenario = given()
      .expectState('RESERVING_STOCK')
      .expectCommand(ReserveStock, { orderId, lines: [...order.lines] })
      .whenReply(StockReserved, reserved)
      .expectState('AUTHORIZING_PAYMENT')
      .expectCommand(AuthorizePayment, { orderId, customerId: 'c-ada', amount: total })
      .whenReply(PaymentAuthorized, { orderId, paymentId, amount: total })
      .expectState('CAPTURING_PAYMENT')
      .expectCommand(CapturePayment, { orderId })
      .whenReply(PaymentCaptured, { orderId, paymentId, amount: total })
      .expectState('CONFIRMED')
      .expectNoCommand();
    expect(scenario.instance).toMatchObject({
      phase: 'COMPLETED',
      deadline: null,
      data: { reservationId, paymentId },
    });
  });

  it('out of stock → REJECTED, no payment attempted', () => {
    given()
      .expectCommand(ReserveStock)
      .whenReply(StockReservationFailed, {
        orderId,
        reason: 'OUT_OF_STOCK',
        unavailable: [{ productId: 'espresso-beans', requested: 2, available: 1 }],
      })
      .expectState('REJECTED')
      .expectNoCommand();
  });

  it('payment declined → stock released → CANCELLED', () => {
    const scenario = given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenReply(PaymentDeclined, { orderId, reason: 'DECLINED' })
      .expectState('RELEASING_STOCK')
      .expectCommand(ReleaseStock, { orderId, reason: 'order cancelled' })
      .whenReply(StockReleased, { orderId, released: true })
      .expectState('CANCELLED')
      .expectNoCommand();
    expect(scenario.instance.failureReason).toBe('payment: DECLINED');
  });

  it('payment provider times out → the reaper voids the payment (it may have gone through), then releases stock', () => {
    given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenDeadlinePasses()
      .expectState('VOIDING_OR_REFUNDING_PAYMENT')
      .expectCommand(VoidOrRefundPayment, { orderId, reason: 'order cancelled' })
      .whenReply(PaymentVoidedOrRefunded, { orderId, outcome: 'NOTHING_HELD' })
      .expectState('RELEASING_STOCK')
      .expectCommand(ReleaseStock)
      .whenReply(StockReleased, { orderId, released: true })
      .expectState('CANCELLED');
  });

  it('an authorization that arrives after cancellation is voided', () => {
    given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenDeadlinePasses()
      .expectCommand(VoidOrRefundPayment)
      .whenReply(PaymentVoidedOrRefunded, { orderId, outcome: 'NOTHING_HELD' })
      .expectCommand(ReleaseStock)
      .whenReply(StockReleased, { orderId, released: true })
      .expectState('CANCELLED')
      .whenReply(PaymentAuthorized, { orderId, paymentId, amount: total })
      .expectCommand(VoidOrRefundPayment)
      .expectState('CANCELLED');
  });

  it('an authorization that arrives while stock is being released is voided too', () => {
    given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenDeadlinePasses()
      .expectCommand(VoidOrRefundPayment)
      .whenReply(PaymentVoidedOrRefunded, { orderId, outcome: 'NOTHING_HELD' })
      .expectState('RELEASING_STOCK')
      .expectCommand(ReleaseStock)
      .whenReply(PaymentAuthorized, { orderId, paymentId, amount: total })
      .expectCommand(VoidOrRefundPayment)
      .expectState('RELEASING_STOCK')
      .whenReply(StockReleased, { orderId, released: true })
      .expectState('CANCELLED');
  });

  it('stock reservation times out → released anyway (the reservation may exist) → CANCELLED', () => {
    given()
      .expectCommand(ReserveStock)
      .whenDeadlinePasses()
      .expectState('RELEASING_STOCK')
      .expectCommand(ReleaseStock)
      .whenReply(StockReleased, { orderId, released: false })
      .expectState('CANCELLED');
  });

  it('capture times out → the payment is voided (refunded if captured) and stock released', () => {
    const scenario = given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenReply(PaymentAuthorized, { orderId, paymentId, amount: total })
      .expectCommand(CapturePayment)
      .whenDeadlinePasses()
      .expectState('VOIDING_OR_REFUNDING_PAYMENT')
      .expectCommand(VoidOrRefundPayment)
      .whenReply(PaymentVoidedOrRefunded, { orderId, outcome: 'REFUNDED' })
      .expectCommand(ReleaseStock)
      .whenReply(StockReleased, { orderId, released: true })
      .expectState('CANCELLED');
    // The history says which of the two the payment compensation did.
    expect(scenario.instance.history).toContainEqual(
      expect.objectContaining({ event: 'authorize payment: compensated', detail: 'payment REFUNDED' }),
    );
  });

  it('a compensation that gets no reply is re-sent after a growing delay until it succeeds', () => {
    const scenario = given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenReply(PaymentDeclined, { orderId, reason: 'DECLINED' })
      .expectCommand(ReleaseStock);
    const delays: number[] = [];
    for (let attempt = 2; attempt <= 5; attempt += 1) {
      const before = scenario.clock.now().getTime();
      scenario.whenDeadlinePasses().expectState('RELEASING_STOCK').expectCommand(ReleaseStock);
      delays.push(new Date(scenario.instance.deadline ?? 0).getTime() - scenario.clock.now().getTime());
      expect(scenario.instance.compensationAttempt).toBe(attempt);
      expect(scenario.clock.now().getTime()).toBeGreaterThan(before);
    }
    // timeout + jittered backoff (jitter fixed at 0.5 here): 10 s + 1 s, 2 s, 4 s, 8 s, each halved.
    expect(delays).toEqual([10_000 + 1_000, 10_000 + 2_000, 10_000 + 4_000, 10_000 + 8_000]);
    scenario.whenReply(StockReleased, { orderId, released: true }).expectState('CANCELLED');
  });

  it('ignores duplicate and out-of-order replies', () => {
    given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenReply(StockReserved, reserved) // redelivered
      .expectNoCommand()
      .expectState('AUTHORIZING_PAYMENT')
      .whenReply(PaymentCaptured, { orderId, paymentId, amount: total }) // not what this step waits for
      .expectNoCommand()
      .expectState('AUTHORIZING_PAYMENT')
      .whenReply(PaymentAuthorized, { orderId, paymentId, amount: total })
      .expectCommand(CapturePayment)
      .whenReply(PaymentCaptured, { orderId, paymentId, amount: total })
      .expectState('CONFIRMED')
      .whenReply(PaymentCaptured, { orderId, paymentId, amount: total })
      .whenReply(StockReleased, { orderId, released: true })
      .expectNoCommand()
      .expectState('CONFIRMED');
  });

  it('a terminal saga has no deadline for the reaper', () => {
    const scenario = given()
      .expectCommand(ReserveStock)
      .whenReply(StockReservationFailed, { orderId, reason: 'UNKNOWN_PRODUCT', unavailable: [] });
    expect(scenario.instance.deadline).toBeNull();
    expect(() => scenario.whenDeadlinePasses()).toThrow('the saga has no deadline in state REJECTED');
  });

  it('keeps a readable history of the conversation', () => {
    const scenario = given()
      .expectCommand(ReserveStock)
      .whenReply(StockReserved, reserved)
      .expectCommand(AuthorizePayment)
      .whenReply(PaymentDeclined, { orderId, reason: 'DECLINED' })
      .expectCommand(ReleaseStock)
      .whenReply(StockReleased, { orderId, released: true });
    expect(scenario.instance.history.map((h) => h.event)).toEqual([
      'started',
      'reserve stock: sent',
      'reserve stock: succeeded',
      'authorize payment: sent',
      'authorize payment: failed',
      'reserve stock: compensation sent',
      'reserve stock: compensated',
      'CANCELLED',
    ]);
  });
});
