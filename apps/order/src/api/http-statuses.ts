import type { OrderErrorCode } from '../domain/errors';

/**
 * The order API's answer to each code (declared at boot, service.ts); `satisfies` keeps it in step with the
 * codes the service raises.
 */
export const ORDER_HTTP_STATUSES = {
  INVALID_IDEMPOTENCY_KEY: 400,
  ORDER_NOT_FOUND: 404,
  ORDER_LOCKED: 409,
  ORDER_FINAL: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  MIXED_CURRENCIES: 422,
  UNKNOWN_PRODUCT: 422,
  CATALOG_UNAVAILABLE: 503,
  OVERLOADED: 503,
} satisfies Record<OrderErrorCode, number>;
