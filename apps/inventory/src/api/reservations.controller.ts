import { Controller, Get, Inject, Param } from '@nestjs/common';
import { orderId as orderIdSchema } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { DataSource } from 'typeorm';
import { findReservation, type Reservation } from '../domain/reservations';

/** Internal read of an order's stock reservation (the gateway's order view, the failure lab's checks). */
@Controller('reservations')
export class ReservationsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get(':orderId')
  async one(@Param('orderId') orderId: string): Promise<Reservation> {
    const reservation = orderIdSchema.safeParse(orderId).success
      ? await findReservation(this.dataSource.manager, orderId)
      : undefined;
    if (!reservation)
      throw new AppError('RESERVATION_NOT_FOUND', `no stock reservation for order ${orderId}`);
    return reservation;
  }
}
