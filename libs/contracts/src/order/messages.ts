import { z } from 'zod';
import { defineMessage } from '../envelope';
import { customerId, money, orderId, orderLines } from '../common';
import { TOPICS } from '../topics';

const byOrder = (p: { orderId: string }): string => p.orderId;

export const OrderCreated = defineMessage({
  type: 'order.OrderCreated',
  schemaVersion: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  payload: z.object({ orderId, customerId, lines: orderLines, total: money }),
  key: byOrder,
});

export const OrderConfirmed = defineMessage({
  type: 'order.OrderConfirmed',
  schemaVersion: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  payload: z.object({ orderId, total: money }),
  key: byOrder,
});

export const OrderRejected = defineMessage({
  type: 'order.OrderRejected',
  schemaVersion: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  payload: z.object({ orderId, reason: z.string().min(1).max(200) }),
  key: byOrder,
});

export const OrderCancelled = defineMessage({
  type: 'order.OrderCancelled',
  schemaVersion: 1,
  kind: 'event',
  topic: TOPICS.orderEvents,
  payload: z.object({ orderId, reason: z.string().min(1).max(200) }),
  key: byOrder,
});
