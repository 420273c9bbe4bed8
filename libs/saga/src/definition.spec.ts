import { Inventory, Payment, StockReleased, StockReserved } from '@saga-lab/contracts';
import { lines, reserveOnlySaga, type ReserveOnlyData } from '../test/reserve-only.saga';
import { failure, stepsOf, success, type SagaStep } from './definition';

interface Data {
  readonly orderId: string;
  readonly reservationId?: string;
}
const step = stepsOf<Data>();
const orderId = '6c2f4d0e-3b1a-4c59-9e0f-1a2b3c4d5e6f';

// The engine's one-step test saga declares its step against Inventory.reserveStock, without annotations.
const reserve = (): SagaStep<ReserveOnlyData> => {
  const [step] = reserveOnlySaga.steps;
  if (!step) throw new Error('the reserve-only saga has no step');
  return step;
};

// Type-level tests: `npm test` type-checks this file, and each @ts-expect-error fails the check unless the
// line below it is a compile error. They are never run.
export const mistakes = {
  replyTheParticipantNeverSends: () =>
    step(Inventory.reserveStock, {
      name: 'reserve',
      state: 'RESERVING',
      timeoutMs: 1_000,
      invoke: (d) => ({ orderId: d.orderId, lines: [] }),
      replies: {
        StockReserved: (d) => success(d),
        StockReservationFailed: (_d, r) => failure(r.reason),
        // @ts-expect-error PaymentAuthorized does not answer ReserveStock
        PaymentAuthorized: (d: Data) => success(d),
      },
      compensation: {
        state: 'RELEASING',
        invoke: (d) => ({ orderId: d.orderId, reason: 'x' }),
        replies: { StockReleased: () => '' },
      },
    }),
  replyLeftUnhandled: () =>
    step(Inventory.reserveStock, {
      name: 'reserve',
      state: 'RESERVING',
      timeoutMs: 1_000,
      invoke: (d) => ({ orderId: d.orderId, lines: [] }),
      // @ts-expect-error StockReservationFailed has no handler
      replies: { StockReserved: (d) => success(d) },
      compensation: {
        state: 'RELEASING',
        invoke: (d) => ({ orderId: d.orderId, reason: 'x' }),
        replies: { StockReleased: () => '' },
      },
    }),
  fieldOfAnotherReply: () =>
    step(Payment.capturePayment, {
      name: 'capture',
      state: 'CAPTURING',
      timeoutMs: 1_000,
      invoke: (d) => ({ orderId: d.orderId }),
      replies: {
        // @ts-expect-error PaymentCaptured has no `reason` (that is PaymentDeclined's)
        PaymentCaptured: (_d, r) => failure(r.reason),
      },
    }),
  wrongCommandPayload: () =>
    step(Payment.capturePayment, {
      name: 'capture',
      state: 'CAPTURING',
      timeoutMs: 1_000,
      // @ts-expect-error CapturePayment carries an orderId, not a customerId
      invoke: (d) => ({ customerId: d.orderId }),
      replies: { PaymentCaptured: (d) => success(d) },
    }),
  compensableStepWithoutItsCompensation: () =>
    // @ts-expect-error ReserveStock has an effect to undo: the step must say how
    step(Inventory.reserveStock, {
      name: 'reserve',
      state: 'RESERVING',
      timeoutMs: 1_000,
      invoke: (d) => ({ orderId: d.orderId, lines: [] }),
      replies: { StockReserved: (d) => success(d), StockReservationFailed: (_d, r) => failure(r.reason) },
    }),
  compensationForAnOperationWithNone: () =>
    step(Payment.capturePayment, {
      name: 'capture',
      state: 'CAPTURING',
      timeoutMs: 1_000,
      invoke: (d) => ({ orderId: d.orderId }),
      replies: { PaymentCaptured: (d) => success(d) },
      // @ts-expect-error CapturePayment declares no compensation
      compensation: { state: 'UNDOING', invoke: (d: Data) => ({ orderId: d.orderId }), replies: {} },
    }),
};

describe('a step declared against a participant operation', () => {
  it('sends the operation’s command with the payload the step builds', () => {
    const sent = reserve().invoke({ orderId });
    expect(sent.type).toBe('inventory.ReserveStock');
    expect(sent.payload).toEqual({ orderId, lines });
    expect(sent.send((definition, payload) => definition.payload.parse(payload))).toEqual(sent.payload);
  });

  it('has one handler per reply the participant declares, each validating its payload first', () => {
    const { replies, compensation } = reserve();
    expect(replies.map((r) => r.type)).toEqual([
      'inventory.StockReserved',
      'inventory.StockReservationFailed',
    ]);
    const reserved = replies.find((r) => r.type === StockReserved.type);
    const reservationId = '0f1e2d3c-4b5a-4697-8877-665544332211';
    expect(
      reserved?.handle({ orderId }, { orderId, reservationId, lines: [{ productId: 'tea', quantity: 1 }] }),
    ).toEqual({ outcome: 'success', data: { orderId, reservationId } });
    expect(() =>
      reserved?.handle({ orderId }, { orderId, reservationId: 'not-a-uuid', lines: [] }),
    ).toThrow();
    expect(compensation?.replies.map((r) => r.type)).toEqual([StockReleased.type]);
    expect(compensation?.replies[0]?.handle({ orderId }, { orderId, released: true })).toBe('released');
    expect(compensation?.replies[0]?.handle({ orderId }, { orderId, released: false })).toBe(
      'nothing to release',
    );
  });

  it('declares the type-level mistakes above as functions only (nothing to run)', () => {
    expect(Object.keys(mistakes)).toHaveLength(6);
  });
});
