import {
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
} from '@saga-lab/contracts';
import { command, defineSaga, failure, onReply, success } from './definition';
import { SagaScenario } from './given-expect';

const orderId = '6c2f4d0e-3b1a-4c59-9e0f-1a2b3c4d5e6f';
const lines = [{ productId: 'tea', quantity: 1 }];
const oneStep = defineSaga<{ orderId: string }>({
  name: 'one-step',
  completedState: 'DONE',
  rejectedState: 'REJECTED',
  compensatedState: 'UNDONE',
  compensationRetry: { baseMs: 100, maxMs: 1_000 },
  steps: [
    {
      name: 'reserve',
      state: 'RESERVING',
      timeoutMs: 1_000,
      invoke: (d) => command(ReserveStock, { orderId: d.orderId, lines }),
      replies: [
        onReply(StockReserved, (d: { orderId: string }) => success(d)),
        onReply(StockReservationFailed, () => failure('no')),
      ],
      compensation: {
        state: 'RELEASING',
        invoke: (d) => command(ReleaseStock, { orderId: d.orderId, reason: 'x' }),
        reply: StockReleased as never,
      },
    },
  ],
});

describe('the given/expect DSL', () => {
  it('says which command was expected and which was sent', () => {
    expect(() => SagaScenario.given(oneStep, { orderId }).expectCommand(ReleaseStock)).toThrow(
      'expected the saga to send inventory.ReleaseStock, but it sent inventory.ReserveStock',
    );
  });

  it('shows both payloads when they differ', () => {
    expect(() =>
      SagaScenario.given(oneStep, { orderId }).expectCommand(ReserveStock, { orderId, lines: [] }),
    ).toThrow(/payload differs/);
  });

  it('refuses to move on while a sent command is unchecked', () => {
    expect(() =>
      SagaScenario.given(oneStep, { orderId }).whenReply(StockReserved, {
        orderId,
        reservationId: orderId,
        lines,
      }),
    ).toThrow('unchecked command(s) before replying inventory.StockReserved: inventory.ReserveStock');
  });

  it('names the state it expected and the one it found', () => {
    expect(() => SagaScenario.given(oneStep, { orderId }).expectState('DONE')).toThrow(
      'expected state DONE, but the saga is RESERVING (RUNNING)',
    );
  });
});
