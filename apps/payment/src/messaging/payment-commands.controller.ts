import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  AuthorizePayment,
  CapturePayment,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentVoided,
  VoidPayment,
  type EnvelopeOf,
  type Money,
} from '@saga-lab/contracts';
import { enqueue, metaCausedBy, processOnce } from '@saga-lab/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import { authorizePayment, capturePayment, voidPayment } from '../domain/payments';
import type { PaymentProvider } from '../provider/payment-provider';

export const CONSUMER_GROUP = 'payment-service';
export const PAYMENT_PROVIDER = Symbol('PAYMENT_PROVIDER');

/**
 * Saga participant. Each command runs in one transaction with its inbox record and its reply (outbox).
 * A provider failure that may pass (timeout, lost response) is thrown as retriable: the command comes
 * back through the retry topic and the provider's idempotency key makes the retry safe.
 */
@Controller()
export class PaymentCommandsController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
  ) {}

  private handle(
    command: EnvelopeOf<unknown>,
    effect: (manager: EntityManager) => Promise<void>,
  ): Promise<boolean> {
    return this.dataSource.transaction((manager) =>
      processOnce(manager, CONSUMER_GROUP, command.messageId, () => effect(manager)),
    );
  }

  @EventPattern(AuthorizePayment.type)
  async authorize(
    @Payload() command: EnvelopeOf<{ orderId: string; customerId: string; amount: Money }>,
  ): Promise<void> {
    await this.handle(command, async (manager) => {
      const result = await authorizePayment(manager, this.provider, command.payload);
      const { orderId } = command.payload;
      if (result.ok)
        await enqueue(
          manager,
          PaymentAuthorized,
          { orderId, paymentId: result.paymentId, amount: result.amount },
          metaCausedBy(command),
        );
      else await enqueue(manager, PaymentDeclined, { orderId, reason: result.reason }, metaCausedBy(command));
    });
  }

  @EventPattern(CapturePayment.type)
  async capture(@Payload() command: EnvelopeOf<{ orderId: string }>): Promise<void> {
    await this.handle(command, async (manager) => {
      const result = await capturePayment(manager, this.provider, command.payload.orderId);
      await enqueue(
        manager,
        PaymentCaptured,
        { orderId: command.payload.orderId, paymentId: result.paymentId, amount: result.amount },
        metaCausedBy(command),
      );
    });
  }

  @EventPattern(VoidPayment.type)
  async void(@Payload() command: EnvelopeOf<{ orderId: string; reason: string }>): Promise<void> {
    await this.handle(command, async (manager) => {
      const { voided } = await voidPayment(manager, this.provider, command.payload.orderId);
      await enqueue(
        manager,
        PaymentVoided,
        { orderId: command.payload.orderId, voided },
        metaCausedBy(command),
      );
    });
  }
}
