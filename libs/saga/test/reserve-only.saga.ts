import { Inventory } from '@saga-lab/contracts';
import { defineSaga, failure, stepsOf, success } from '../src/definition';

/** A one-step saga for the engine's own tests: reserve, undone by a release. */
export interface ReserveOnlyData {
  orderId: string;
  reservationId?: string;
}

export const RESERVE_TIMEOUT_MS = 5_000;
export const lines = [{ productId: 'tea', quantity: 1 }];

const step = stepsOf<ReserveOnlyData>();

export const reserveOnlySaga = defineSaga<ReserveOnlyData>({
  name: 'reserve-only',
  completedState: 'DONE',
  rejectedState: 'REJECTED',
  compensatedState: 'UNDONE',
  compensationRetry: { baseMs: 100, maxMs: 1_000 },
  steps: [
    step(Inventory.reserveStock, {
      name: 'reserve',
      state: 'RESERVING',
      timeoutMs: RESERVE_TIMEOUT_MS,
      invoke: (d) => ({ orderId: d.orderId, lines }),
      replies: {
        StockReserved: (d, r) => success({ ...d, reservationId: r.reservationId }),
        StockReservationFailed: (_d, r) => failure(`stock: ${r.reason}`),
      },
      compensation: {
        state: 'RELEASING',
        invoke: (d) => ({ orderId: d.orderId, reason: 'timeout' }),
        replies: { StockReleased: (_d, r) => (r.released ? 'released' : 'nothing to release') },
      },
    }),
  ],
});
