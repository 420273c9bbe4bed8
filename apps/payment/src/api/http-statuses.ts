import type { HttpStatusTable } from '@saga-lab/observability';

/** The payment API's answer to each code it refuses a request with (declared at boot, service.ts). */
export const PAYMENT_HTTP_STATUSES = { PAYMENT_NOT_FOUND: 404 } satisfies HttpStatusTable;
