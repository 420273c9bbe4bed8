import { money, orderId, productId } from '@saga-lab/contracts';
import { z } from 'zod';
import { order, payment, product, reservation } from '../api/schemas';

/**
 * What the services answer, checked on arrival against the public shapes (api/schemas.ts) instead of cast
 * to them. Objects are not strict here: a field a service adds is dropped (the public answer is strict,
 * and never shows it), while a missing or mistyped field is a broken contract — the call fails as the
 * service's failure (503), not as a 500 somewhere later.
 */
const line = z.object({ productId, quantity: z.number().int() });
const amount = z.object(money.shape);

export const productAnswer = z.object({ ...product.shape, price: amount });
export const productPageAnswer = z.object({
  items: z.array(productAnswer),
  nextCursor: z.string().nullable(),
});

export const orderAnswer = z.object({ ...order.shape, orderId, lines: z.array(line), total: amount });
/** One order, with the trace it was placed in (kept out of the public order, shown as its own section). */
export const tracedOrderAnswer = orderAnswer.extend({ traceId: z.string().nullable().optional() });
export const orderPageAnswer = z.object({ items: z.array(orderAnswer), nextCursor: z.string().nullable() });

export const paymentAnswer = z.object({ ...payment.shape, amount: amount.nullable() });
export const reservationAnswer = z.object({ ...reservation.shape, lines: z.array(line) });
