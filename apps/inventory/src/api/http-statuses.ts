import type { HttpStatusTable } from '@saga-lab/observability';

/** The inventory API's answer to each code it refuses a request with (declared at boot, service.ts). */
export const INVENTORY_HTTP_STATUSES = {
  PRODUCT_NOT_FOUND: 404,
  RESERVATION_NOT_FOUND: 404,
} satisfies HttpStatusTable;
