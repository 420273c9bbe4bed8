import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  ProductUpdated,
  ReleaseStock,
  ReserveStock,
  StockReleased,
  StockReservationFailed,
  StockReserved,
  type EnvelopeOf,
} from '@saga-lab/contracts';
import { enqueue, processOnce } from '@saga-lab/messaging';
import { DataSource, type EntityManager } from 'typeorm';
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
        const meta = {
          correlationId: command.correlationId,
          causationId: command.messageId,
          ...(command.sagaId ? { sagaId: command.sagaId } : {}),
        };
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
        const meta = {
          correlationId: command.correlationId,
          causationId: command.messageId,
          ...(command.sagaId ? { sagaId: command.sagaId } : {}),
        };
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
  private async announce(
    manager: EntityManager,
    productIds: string[],
    meta: { correlationId: string; causationId: string },
  ): Promise<void> {
    const rows = (await manager.query(
      `SELECT product_id, name, price_minor, currency, available, version FROM products WHERE product_id = ANY($1) ORDER BY product_id`,
      [productIds],
    )) as {
      product_id: string;
      name: string;
      price_minor: string;
      currency: string;
      available: number;
      version: number;
    }[];
    for (const row of rows) {
      await enqueue(
        manager,
        ProductUpdated,
        {
          productId: row.product_id,
          name: row.name,
          price: { amountMinor: Number(row.price_minor), currency: row.currency },
          available: row.available,
          version: row.version,
        },
        meta,
      );
    }
  }
}
