/** The order service's injection tokens, in one place (wired in service.ts). */
export const PLACE_ORDER_SAGA = Symbol('PLACE_ORDER_SAGA');
export const CATALOG = Symbol('CATALOG');
export const ADMISSION = Symbol('ADMISSION');
