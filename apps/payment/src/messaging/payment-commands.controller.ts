import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  AuthorizePayment,
  CapturePayment,
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentVoidedOrRefunded,
  VoidOrRefundPayment,
  type EnvelopeFor,
} from '@saga-lab/contracts';
import { HandlerTransaction, enqueue, metaCausedBy } from '@saga-lab/messaging';
import type { EntityManager } from 'typeorm';
import { authorizePayment, capturePayment, voidOrRefundPayment } from '../domain/payments';
import type { ProviderKeys } from '../domain/provider-keys';
import type { PaymentProvider } from '../provider/payment-provider';

export const CONSUMER_GROUP = 'payment-service';
export const PAYMENT_PROVIDER = Symbol('PAYMENT_PROVIDER');
/** The idempotency keys of provider calls (ORDER_KEYS; per attempt only with the lab's safeguard off). */
export const PROVIDER_KEYS = Symbol('PROVIDER_KEYS');
/** Whether compensation asks the provider's ledger before voiding (safeguard `reconciliation`). */
export const RECONCILE_WITH_PROVIDER = Symbol('RECONCILE_WITH_PROVIDER');

/**
 * Saga participant (`Payment` in libs/contracts/src/participants.ts). The transport validated the command
 * and runs each handler in one transaction with its inbox record, so a handler holds only its effect and
 * its reply (outbox).
 * A provider failure that may pass (timeout, lost response) is thrown as retriable: the command comes
 * back through the retry topic and the provider's idempotency key makes the retry safe.
 */
@Controller()
export class PaymentCommandsController {
  constructor(
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(PROVIDER_KEYS) private readonly keys: ProviderKeys,
    @Inject(RECONCILE_WITH_PROVIDER) private readonly reconcile: boolean,
  ) {}

  @EventPattern(AuthorizePayment.type)
  async authorize(
    @Payload() command: EnvelopeFor<typeof AuthorizePayment>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    const { orderId } = command.payload;
    const result = await authorizePayment(manager, this.provider, command.payload, this.keys);
    if (result.ok)
      await enqueue(
        manager,
        PaymentAuthorized,
        { orderId, paymentId: result.paymentId, amount: result.amount },
        metaCausedBy(command),
      );
    else await enqueue(manager, PaymentDeclined, { orderId, reason: result.reason }, metaCausedBy(command));
  }

  @EventPattern(CapturePayment.type)
  async capture(
    @Payload() command: EnvelopeFor<typeof CapturePayment>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    const { orderId } = command.payload;
    const result = await capturePayment(manager, this.provider, orderId, this.keys);
    await enqueue(
      manager,
      PaymentCaptured,
      { orderId, paymentId: result.paymentId, amount: result.amount },
      metaCausedBy(command),
    );
  }

  @EventPattern(VoidOrRefundPayment.type)
  async voidOrRefund(
    @Payload() command: EnvelopeFor<typeof VoidOrRefundPayment>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    const { orderId } = command.payload;
    const { outcome } = await voidOrRefundPayment(manager, this.provider, orderId, this.keys, this.reconcile);
    await enqueue(manager, PaymentVoidedOrRefunded, { orderId, outcome }, metaCausedBy(command));
  }
}
