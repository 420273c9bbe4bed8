import { money, type Money } from '@saga-lab/contracts';
import type { ServiceClient } from '@saga-lab/discovery';
import { Deadline, ResilienceError } from '@saga-lab/resilience';
import { z } from 'zod';
import { OrderError } from '../domain/errors';

/** The part of inventory's product answer the order service relies on; other fields are dropped. */
const pricedProduct = z.object({ price: money });

/** How long pricing one order may take, all its lines and retries included. */
const PRICING_BUDGET_MS = 2_000;

/**
 * Prices from the catalog (inventory's read API), never from the client. The call goes the way every
 * service-to-service call goes (libs/discovery's ServiceClient): an inventory instance from discovery, a
 * deadline for the whole pricing, retries with jitter (a GET), a breaker, and an answer checked against
 * the schema above instead of cast.
 */
export class Catalog {
  constructor(private readonly inventory: ServiceClient) {}

  async price<L extends { readonly productId: string }>(
    lines: readonly L[],
    correlationId: string,
  ): Promise<(L & { readonly unitPrice: Money })[]> {
    const deadline = Deadline.within(PRICING_BUDGET_MS);
    return Promise.all(
      lines.map(async (line) => ({
        ...line,
        unitPrice: await this.priceOf(line.productId, deadline, correlationId),
      })),
    );
  }

  private async priceOf(productId: string, deadline: Deadline, correlationId: string): Promise<Money> {
    let answer;
    try {
      answer = await this.inventory.call(
        { method: 'GET', path: `/products/${encodeURIComponent(productId)}`, deadline, correlationId },
        pricedProduct,
      );
    } catch (error) {
      if (!(error instanceof ResilienceError)) throw error;
      throw new OrderError('CATALOG_UNAVAILABLE', 'the catalog did not answer; try again shortly', {
        retriable: true,
        cause: error,
      });
    }
    if (answer.ok) return answer.body.price;
    if (answer.status === 404)
      throw new OrderError('UNKNOWN_PRODUCT', `no product ${productId}`, { details: { productId } });
    throw new OrderError('CATALOG_UNAVAILABLE', `the catalog answered ${answer.status}`, { retriable: true });
  }
}
