import { ReleaseStock, ReserveStock, StockReserved } from '@saga-lab/contracts';
import { lines, reserveOnlySaga as oneStep } from '../test/reserve-only.saga';
import { SagaScenario } from './given-expect';

const orderId = '6c2f4d0e-3b1a-4c59-9e0f-1a2b3c4d5e6f';

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
