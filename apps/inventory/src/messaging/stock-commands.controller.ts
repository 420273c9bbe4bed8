import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  ProductUpdated,
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
  type EnvelopeFor,
  type EnvelopeMeta,
} from '@saga-lab/contracts';
import { HandlerTransaction, enqueue, metaCausedBy } from '@saga-lab/messaging';
import type { EntityManager } from 'typeorm';
import { findProducts } from '../domain/products';
import { releaseStock, reserveStock } from '../domain/reservations';

export const CONSUMER_GROUP = 'inventory-service';

/**
 * Saga participant (`Inventory` in libs/contracts/src/participants.ts). The transport validated the
 * command and runs each handler in one transaction with its inbox record (duplicates stop there), so a
 * handler holds only its effect: the stock change, the reply and the ProductUpdated events in the outbox.
 */
@Controller()
export class StockCommandsController {
  @EventPattern(ReserveStock.type)
  async reserve(
    @Payload() command: EnvelopeFor<typeof ReserveStock>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    const { orderId, lines } = command.payload;
    const result = await reserveStock(manager, orderId, lines);
    const meta = metaCausedBy(command);
    if (!result.ok) {
      await enqueue(
        manager,
        StockReservationFailed,
        { orderId, reason: result.reason, unavailable: [...result.unavailable] },
        meta,
      );
      return;
    }
    await enqueue(
      manager,
      StockReserved,
      { orderId, reservationId: result.reservationId, lines: [...result.lines] },
      meta,
    );
    await this.announce(
      manager,
      lines.map((l) => l.productId),
      meta,
    );
  }

  @EventPattern(ReleaseStock.type)
  async release(
    @Payload() command: EnvelopeFor<typeof ReleaseStock>,
    @HandlerTransaction() manager: EntityManager,
  ): Promise<void> {
    const { orderId } = command.payload;
    const { released } = await releaseStock(manager, orderId);
    const meta = metaCausedBy(command);
    await enqueue(manager, StockReleased, { orderId, released }, meta);
    if (!released) return;
    const rows = (await manager.query(`SELECT lines FROM reservations WHERE order_id = $1`, [orderId])) as {
      lines: { productId: string }[];
    }[];
    await this.announce(
      manager,
      (rows[0]?.lines ?? []).map((l) => l.productId),
      meta,
    );
  }

  /** ProductUpdated for each product whose availability changed (drives cache invalidation at the edge). */
  private async announce(manager: EntityManager, productIds: string[], meta: EnvelopeMeta): Promise<void> {
    for (const product of await findProducts(manager, productIds)) {
      await enqueue(manager, ProductUpdated, product, meta);
    }
  }
}
