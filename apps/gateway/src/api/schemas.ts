import { money, orderId, orderLines, productId } from '@saga-lab/contracts';
import { pageQuery as servicePageQuery } from '@saga-lab/observability';
import { z } from 'zod';

/**
 * The public API's shapes, in one place: requests are validated with them and the OpenAPI document is
 * generated from them, so the two cannot disagree. Responses are strict (no undeclared fields).
 */
export const errorBody = z.strictObject({
  error: z.strictObject({
    code: z.string().meta({ example: 'VALIDATION_FAILED' }),
    message: z.string(),
    details: z.unknown().optional(),
    correlationId: z.string(),
  }),
});

export const tokenRequest = z.strictObject({
  grant_type: z.literal('password'),
  username: z.string().min(1).max(100),
  password: z.string().min(1).max(200),
});
export const refreshRequest = z.strictObject({ refresh_token: z.string().min(1).max(200) });
export const tokenResponse = z.strictObject({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  refresh_token: z.string(),
});

export const product = z.strictObject({
  productId,
  name: z.string(),
  price: money.strict(),
  available: z.number().int(),
  version: z.number().int(),
});
export const productPatch = z
  .strictObject({
    name: z.string().min(1).max(200).optional(),
    price: z.strictObject({ amountMinor: z.number().int().nonnegative().max(100_000_000_00) }).optional(),
  })
  .refine((p) => p.name !== undefined || p.price !== undefined, 'change at least one of name, price');

export const page = <T extends z.ZodType>(item: T) =>
  z.strictObject({ items: z.array(item), has_more: z.boolean(), next_cursor: z.string().nullable() });
/** The services' own page query (limit, opaque cursor), refusing unknown parameters. */
export const pageQuery = servicePageQuery.strict();
export const orderListQuery = servicePageQuery
  .extend({ customerId: z.string().min(1).max(100).optional() })
  .strict();

export const placeOrderRequest = z.strictObject({ lines: orderLines });
export const order = z.strictObject({
  orderId,
  customerId: z.string(),
  lines: z.array(z.strictObject({ productId, quantity: z.number().int() })),
  total: money.strict(),
  status: z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED']),
  statusReason: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** A section of an assembled response: present, absent (nothing yet), or unavailable (its service is down). */
const section = <T extends z.ZodType>(data: T) =>
  z.discriminatedUnion('status', [
    z.strictObject({ status: z.literal('ok'), data }),
    z.strictObject({ status: z.literal('none') }),
    z.strictObject({
      status: z.literal('unavailable'),
      error: z.strictObject({ code: z.string(), message: z.string() }),
    }),
  ]);
export const payment = z.strictObject({
  status: z.string(),
  /** null for a void that came before any authorization (nothing was ever held). */
  amount: money.strict().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const reservation = z.strictObject({
  status: z.string(),
  lines: z.array(z.strictObject({ productId, quantity: z.number().int() })),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** The trace the order was placed in: its whole saga, every service and Kafka hop (null when not traced). */
export const orderTrace = z
  .strictObject({
    traceId: z.string().meta({ example: '4bf92f3577b34da6a3ce929d0e0e4736' }),
    /** The trace in Zipkin's UI, when the gateway knows where Zipkin is. */
    url: z.string().nullable(),
  })
  .nullable();
export const orderDetail = z.strictObject({
  order,
  payment: section(payment),
  reservation: section(reservation),
  trace: orderTrace,
});

export const productIdParam = productId;
export const orderIdParam = orderId;

export type Order = z.infer<typeof order>;
