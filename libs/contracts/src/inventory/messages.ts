import { z } from 'zod';
import { defineMessage } from '../envelope';
import { money, orderId, orderLines, productId } from '../common';
import { TOPICS } from '../topics';

const byOrder = (p: { orderId: string }): string => p.orderId;

/** Command (saga → inventory): reserve every line or none. Idempotent per order. */
export const ReserveStock = defineMessage({
  type: 'inventory.ReserveStock',
  schemaVersion: 1,
  kind: 'command',
  topic: TOPICS.inventoryCommands,
  payload: z.object({ orderId, lines: orderLines }),
  key: byOrder,
});

export const StockReserved = defineMessage({
  type: 'inventory.StockReserved',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.inventoryReplies,
  payload: z.object({ orderId, reservationId: z.uuid(), lines: orderLines }),
  key: byOrder,
});

export const StockReservationFailed = defineMessage({
  type: 'inventory.StockReservationFailed',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.inventoryReplies,
  payload: z.object({
    orderId,
    // ORDER_RELEASED: the order's stock was already released (a command that arrived after its compensation).
    reason: z.enum(['OUT_OF_STOCK', 'UNKNOWN_PRODUCT', 'ORDER_RELEASED']),
    unavailable: z.array(z.object({ productId, requested: z.number().int(), available: z.number().int() })),
  }),
  key: byOrder,
});

/** Compensation (saga → inventory): give a reservation back. Idempotent; releasing nothing is a success. */
export const ReleaseStock = defineMessage({
  type: 'inventory.ReleaseStock',
  schemaVersion: 1,
  kind: 'command',
  topic: TOPICS.inventoryCommands,
  payload: z.object({ orderId, reason: z.string().min(1).max(200) }),
  key: byOrder,
});

export const StockReleased = defineMessage({
  type: 'inventory.StockReleased',
  schemaVersion: 1,
  kind: 'reply',
  topic: TOPICS.inventoryReplies,
  payload: z.object({ orderId, released: z.boolean() }),
  key: byOrder,
});

/** Event: a product's catalog data or availability changed (drives cache invalidation at the gateway). */
export const ProductUpdated = defineMessage({
  type: 'inventory.ProductUpdated',
  schemaVersion: 1,
  kind: 'event',
  topic: TOPICS.inventoryEvents,
  payload: z.object({
    productId,
    name: z.string().min(1).max(200),
    price: money,
    available: z.number().int().nonnegative(),
    version: z.number().int().positive(),
  }),
  key: (p) => p.productId,
});
