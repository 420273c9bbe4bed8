import { AppError } from '@saga-lab/errors';

/** Every code the order service refuses a request with, from its domain rules or its API. */
export type OrderErrorCode =
  | 'INVALID_IDEMPOTENCY_KEY'
  | 'ORDER_NOT_FOUND'
  | 'ORDER_LOCKED'
  | 'ORDER_FINAL'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'MIXED_CURRENCIES'
  | 'UNKNOWN_PRODUCT'
  | 'CATALOG_UNAVAILABLE'
  /** Admission control: too many sagas in flight to take another order now (api/admission.ts). */
  | 'OVERLOADED';

/** Named so that the HTTP layer's status table can be checked to cover every code (api/http-statuses.ts). */
export class OrderError extends AppError<OrderErrorCode> {}
