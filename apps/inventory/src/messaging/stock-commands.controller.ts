import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  ProductUpdated,
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
  type EnvelopeMeta,
  type EnvelopeOf,
} from '@saga-lab/contracts';
import { enqueue, metaCausedBy, processOnce } from '@saga-lab/messaging';
import { DataSource, type EntityManager } from 'typeorm';
import { findProducts } from '../domain/products';
import { releaseStock, reserveStock } from '../domain/reservations';

export const CONSUMER_GROUP = 'inventory-service';

type Reserve = EnvelopeOf<{ orderId: string; lines: { productId: string; quantity: number }[] }>;
type Release = EnvelopeOf<{ orderId: string; reason: string }>;

/**
 * Saga participant. Each command is handled in one transaction: the inbox record (duplicates stop
 * here), the stock change, the reply and the ProductUpdated events in the outbox.
 */
@Controller()
export class StockCommandsController {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @EventPattern(ReserveStock.type)
  async reserve(@Payload() command: Reserve): Promise<void> {
    await this.dataSource.transaction((manager) =>
      processOnce(manager, CONSUMER_GROUP, command.messageId, async () => {
        const { orderId, lines } = command.payload;
        const result = await reserveStock(manager, orderId, lines);
        const meta = metaCausedBy(command);
        if (result.ok) {
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
        } else {
          await enqueue(
            manager,
            StockReservationFailed,
            { orderId, reason: result.reason, unavailable: [...result.unavailable] },
            meta,
          );
        }
      }),
    );
  }

  @EventPattern(ReleaseStock.type)
  async release(@Payload() command: Release): Promise<void> {
    await this.dataSource.transaction((manager) =>
      processOnce(manager, CONSUMER_GROUP, command.messageId, async () => {
        const { orderId } = command.payload;
        const { released } = await releaseStock(manager, orderId);
        const meta = metaCausedBy(command);
        await enqueue(manager, StockReleased, { orderId, released }, meta);
        if (released) {
          const rows = (await manager.query(`SELECT lines FROM reservations WHERE order_id = $1`, [
            orderId,
          ])) as { lines: { productId: string }[] }[];
          await this.announce(
            manager,
            (rows[0]?.lines ?? []).map((l) => l.productId),
            meta,
          );
        }
      }),
    );
  }

  /** ProductUpdated for each product whose availability changed (drives cache invalidation at the edge). */
  private async announce(manager: EntityManager, productIds: string[], meta: EnvelopeMeta): Promise<void> {
    for (const product of await findProducts(manager, productIds)) {
      await enqueue(manager, ProductUpdated, product, meta);
    }
  }
}
