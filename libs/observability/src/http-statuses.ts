/** The HTTP status each error code is answered with. */
export type HttpStatusTable = Readonly<Record<string, number>>;

const statusByCode = new Map<string, number>();

/**
 * Declares the HTTP statuses of an owner's error codes, once: a service in its HTTP layer (its domain
 * throws codes and knows no HTTP), a library for the codes it throws itself. The table is the process's
 * rather than handed to the error filter because the filter is built by the runtime, which knows no
 * service's codes; a code means one thing everywhere, so giving it a second status fails at start
 * instead of answering differently depending on who threw it.
 */
export function declareHttpStatuses<const T extends HttpStatusTable>(table: T): T {
  for (const [code, status] of Object.entries(table)) {
    const declared = statusByCode.get(code);
    if (declared !== undefined && declared !== status) {
      throw new Error(`error code ${code} is answered with ${declared} already, not ${status}`);
    }
    statusByCode.set(code, status);
  }
  return table;
}

export const declaredStatus = (code: string): number | undefined => statusByCode.get(code);
