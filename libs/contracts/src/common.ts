import { z } from 'zod';

export const orderId = z.uuid();
export const productId = z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'a lower-case slug');
export const customerId = z.string().min(1).max(100);

/** Money in minor units (cents) as an integer: no floating-point arithmetic on amounts, ever. */
export const money = z.object({
  amountMinor: z.number().int().nonnegative().max(100_000_000_00),
  currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code'),
});
export type Money = z.infer<typeof money>;

export const orderLine = z.object({
  productId,
  quantity: z.number().int().positive().max(1_000),
});
export type OrderLine = z.infer<typeof orderLine>;

export const orderLines = z
  .array(orderLine)
  .min(1)
  .max(50)
  .refine(
    (lines) => new Set(lines.map((l) => l.productId)).size === lines.length,
    'each product at most once',
  );
