import { HttpAnswer, declareHttpStatuses, type HttpAnswerOptions } from '@saga-lab/observability';

/** The gateway's answer to each of its own codes; a service's refusal is relayed with that service's status. */
export const GATEWAY_HTTP_STATUSES = declareHttpStatuses({
  IDEMPOTENCY_KEY_REQUIRED: 400,
  INVALID_IDEMPOTENCY_KEY: 400,
  UNAUTHENTICATED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_REFRESH_TOKEN: 401,
  REFRESH_TOKEN_REUSED: 401,
  SESSION_REVOKED: 401,
  FORBIDDEN: 403,
  ORDER_NOT_FOUND: 404,
  PRODUCT_NOT_FOUND: 404,
  IDEMPOTENCY_KEY_IN_USE: 409,
  IDEMPOTENCY_KEY_REUSED: 422,
  RATE_LIMITED: 429,
  UPSTREAM_REFUSED: 502,
  DEPENDENCY_UNAVAILABLE: 503,
  STORE_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
});

export type GatewayErrorCode = keyof typeof GATEWAY_HTTP_STATUSES;

/**
 * The gateway is the HTTP edge and holds no domain: its refusals are HTTP answers, with the headers they
 * imply. Its codes are the table's keys, so none can be thrown without a status, and none sets its own.
 */
export class GatewayError extends HttpAnswer<GatewayErrorCode> {
  constructor(code: GatewayErrorCode, message: string, options?: Omit<HttpAnswerOptions, 'status'>) {
    super(code, message, options);
  }
}
