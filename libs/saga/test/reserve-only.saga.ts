import {
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
} from '@saga-lab/contracts';
import { command, defineSaga, failure, onReply, success } from '../src/definition';

/** A one-step saga for the engine's own tests: reserve, undone by a release. */
export interface ReserveOnlyData {
  orderId: string;
  reservationId?: string;
}

export const RESERVE_TIMEOUT_MS = 5_000;
export const lines = [{ productId: 'tea', quantity: 1 }];

export const reserveOnlySaga = defineSaga<ReserveOnlyData>({
  name: 'reserve-only',
  completedState: 'DONE',
  rejectedState: 'REJECTED',
  compensatedState: 'UNDONE',
  compensationRetry: { baseMs: 100, maxMs: 1_000 },
  steps: [
    {
      name: 'reserve',
      state: 'RESERVING',
      timeoutMs: RESERVE_TIMEOUT_MS,
      invoke: (d) => command(ReserveStock, { orderId: d.orderId, lines }),
      replies: [
        onReply(StockReserved, (d: ReserveOnlyData, r) => success({ ...d, reservationId: r.reservationId })),
        onReply(StockReservationFailed, (_d: ReserveOnlyData, r) => failure(`stock: ${r.reason}`)),
      ],
      compensation: {
        state: 'RELEASING',
        invoke: (d) => command(ReleaseStock, { orderId: d.orderId, reason: 'timeout' }),
        reply: StockReleased as never,
      },
    },
  ],
});
