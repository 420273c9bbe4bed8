import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { EnvelopeOf } from '@saga-lab/contracts';
import { HandlerTransaction } from '@saga-lab/messaging';
import { replyTypesOf, type SagaStore } from '@saga-lab/saga';
import type { EntityManager } from 'typeorm';
import { placeOrderSaga, type PlaceOrderData } from '../saga/place-order.saga';
import { PLACE_ORDER_SAGA } from '../tokens';

export const CONSUMER_GROUP = 'order-service';

/** What the orchestrator listens to: every reply its saga definition declares, and nothing else. */
export const PLACE_ORDER_REPLIES = replyTypesOf(placeOrderSaga());

/**
 * The orchestrator's inbox: a participant's reply moves its saga — the new state, the commands the
 * transition sends and (when it ends) the order's final status — in the transaction the transport opened
 * with the reply's inbox record.
 */
@Controller()
export class SagaRepliesController {
  constructor(@Inject(PLACE_ORDER_SAGA) private readonly saga: SagaStore<PlaceOrderData>) {}

  @EventPattern(PLACE_ORDER_REPLIES)
  async reply(
    @Payload() reply: EnvelopeOf<unknown>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    await this.saga.applyReply(manager, reply);
  }
}
