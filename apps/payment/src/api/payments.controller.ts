import { Controller, Get, Inject, Param } from '@nestjs/common';
import { orderId as orderIdSchema } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { DataSource } from 'typeorm';
import { findPayment, type Payment } from '../domain/payments';

/** Internal read of an order's payment (the gateway's order view, the failure lab's checks). */
@Controller('payments')
export class PaymentsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Get(':orderId')
  async one(@Param('orderId') orderId: string): Promise<Payment> {
    const payment = orderIdSchema.safeParse(orderId).success
      ? await findPayment(this.dataSource.manager, orderId)
      : undefined;
    if (!payment) throw new AppError('PAYMENT_NOT_FOUND', `no payment for order ${orderId}`);
    return payment;
  }
}
