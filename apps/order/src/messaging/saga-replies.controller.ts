import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  PaymentAuthorized,
  PaymentCaptured,
  PaymentDeclined,
  PaymentVoided,
  StockReleased,
  StockReservationFailed,
  StockReserved,
  type EnvelopeOf,
} from '@saga-lab/contracts';
import { processOnce } from '@saga-lab/messaging';
import type { SagaStore } from '@saga-lab/saga';
import { DataSource } from 'typeorm';
import type { PlaceOrderData } from '../saga/place-order.saga';

export const CONSUMER_GROUP = 'order-service';
export const PLACE_ORDER_SAGA = Symbol('PLACE_ORDER_SAGA');

/**
 * The orchestrator's inbox: every participant reply moves its saga in one transaction with the inbox
 * record, the commands the transition sends, and (when it ends) the order's final status.
 */
@Controller()
export class SagaRepliesController {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(PLACE_ORDER_SAGA) private readonly saga: SagaStore<PlaceOrderData>,
  ) {}

  private apply(reply: EnvelopeOf<unknown>): Promise<boolean> {
    return this.dataSource.transaction((manager) =>
      processOnce(manager, CONSUMER_GROUP, reply.messageId, async () => {
        await this.saga.applyReply(manager, reply);
      }),
    );
  }

  @EventPattern(StockReserved.type)
  async stockReserved(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
  @EventPattern(StockReservationFailed.type)
  async stockReservationFailed(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
  @EventPattern(StockReleased.type)
  async stockReleased(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
  @EventPattern(PaymentAuthorized.type)
  async paymentAuthorized(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
  @EventPattern(PaymentDeclined.type)
  async paymentDeclined(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
  @EventPattern(PaymentCaptured.type)
  async paymentCaptured(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
  @EventPattern(PaymentVoided.type)
  async paymentVoided(@Payload() reply: EnvelopeOf<unknown>): Promise<void> {
    await this.apply(reply);
  }
}
