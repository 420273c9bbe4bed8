import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { between, pick, type Random } from './random';

export interface LabProduct {
  readonly productId: string;
  readonly priceMinor: number;
  /** Stock at the start of the run: the checker's baseline for conservation. */
  readonly stock: number;
}

export interface PlannedOrder {
  readonly n: number;
  /** When the client first sends it, from the start of the workload. */
  readonly atMs: number;
  readonly customer: string;
  readonly idempotencyKey: string;
  readonly lines: readonly { productId: string; quantity: number }[];
}

/** What one client saw: the checker's record of acknowledged orders. */
export interface OrderRecord extends PlannedOrder {
  /** acknowledged: a 2xx carried an order id; refused: a 4xx that retrying cannot change; unknown: never answered. */
  outcome: 'acknowledged' | 'refused' | 'unknown';
  attempts: number;
  sentAt?: number;
  ackAt?: number;
  orderId?: string;
  lastStatus?: number;
  lastError?: string;
}

export interface WorkloadPlan {
  readonly products: readonly LabProduct[];
  readonly orders: readonly PlannedOrder[];
}

/**
 * The seeded part of a workload: products with scarce stock (about 70 % of what the orders will ask for, so
 * some orders are rejected for stock), and orders at a fixed arrival rate with random lines. Same seed,
 * same plan.
 */
export function planWorkload(
  random: Random,
  tag: string,
  options: { ratePerSecond: number; durationMs: number; customers: readonly string[] },
): WorkloadPlan {
  const count = Math.max(1, Math.round((options.ratePerSecond * options.durationMs) / 1000));
  const productIds = [0, 1, 2, 3].map((i) => `lab-${tag}-p${i}`);
  const orders: PlannedOrder[] = [];
  const demand = new Map<string, number>();
  for (let n = 0; n < count; n++) {
    const lineCount = between(random, 1, 2);
    const chosen = new Set<string>();
    while (chosen.size < lineCount) chosen.add(pick(random, productIds));
    const lines = [...chosen].sort().map((productId) => ({ productId, quantity: between(random, 1, 3) }));
    for (const line of lines) demand.set(line.productId, (demand.get(line.productId) ?? 0) + line.quantity);
    orders.push({
      n,
      atMs: Math.round((n * 1000) / options.ratePerSecond),
      customer: pick(random, options.customers),
      idempotencyKey: `lab-${tag}-o${n}`,
      lines,
    });
  }
  const products = productIds.map((productId) => ({
    productId,
    priceMinor: between(random, 100, 5_000),
    stock: Math.max(1, Math.floor((demand.get(productId) ?? 0) * 0.7)),
  }));
  return { products, orders };
}

/** Stocks the warehouse for the run: the lab's own products, written as an operator would load them. */
export async function stockProducts(inventory: pg.Pool, products: readonly LabProduct[]): Promise<void> {
  for (const p of products)
    await inventory.query(
      `INSERT INTO products (product_id, name, price_minor, currency, available) VALUES ($1, $2, $3, 'EUR', $4)`,
      [p.productId, `Lab product ${p.productId}`, p.priceMinor, p.stock],
    );
}

/** The key the gateway gives the order service for a customer's Idempotency-Key (orders.idempotency_key). */
export const orderServiceKey = (username: string, key: string): string =>
  `gw-${createHash('sha256').update(`${username}\n${key}`).digest('base64url')}`;

export interface WorkloadClients {
  readonly gatewayUrl: string;
  readonly credentials: readonly { username: string; password: string }[];
  readonly requestTimeoutMs: number;
  /** Clients stop retrying at this instant (epoch ms); what is still unanswered is recorded as unknown. */
  readonly giveUpAt: () => number;
  readonly onAck?: (record: OrderRecord) => void;
}

/**
 * Runs the plan against the gateway as real clients would: each order is sent at its planned offset
 * (open model: a slow system does not slow the arrivals), and retried with the SAME Idempotency-Key on a
 * timeout, a connection error, a 5xx, a 409 (the first attempt still in flight) or a 429, until it is
 * acknowledged or the clients give up. Every attempt's outcome is recorded.
 */
export async function runWorkload(
  plan: WorkloadPlan,
  clients: WorkloadClients,
  startAt: number,
): Promise<OrderRecord[]> {
  const tokens = new Tokens(clients);
  const records = plan.orders.map((order): OrderRecord => ({ ...order, outcome: 'unknown', attempts: 0 }));
  await Promise.all(
    records.map(async (record) => {
      const wait = startAt + record.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      await placeWithRetries(record, clients, tokens);
      if (record.outcome === 'acknowledged') clients.onAck?.(record);
    }),
  );
  return records;
}

async function placeWithRetries(
  record: OrderRecord,
  clients: WorkloadClients,
  tokens: Tokens,
): Promise<void> {
  record.sentAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    record.attempts = attempt;
    let retryAfterMs = Math.min(2_000, 200 * 2 ** Math.min(attempt - 1, 4)) * (0.5 + Math.random() / 2);
    try {
      const token = await tokens.get(record.customer);
      const response = await fetch(`${clients.gatewayUrl}/v1/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': record.idempotencyKey,
        },
        body: JSON.stringify({ lines: record.lines }),
        signal: AbortSignal.timeout(clients.requestTimeoutMs),
      });
      record.lastStatus = response.status;
      const body = (await response.json().catch(() => ({}))) as {
        orderId?: string;
        error?: { code?: string };
      };
      if (response.ok && body.orderId) {
        record.outcome = 'acknowledged';
        record.orderId = body.orderId;
        record.ackAt = Date.now();
        return;
      }
      record.lastError = body.error?.code ?? `HTTP ${response.status}`;
      if (response.status === 401) tokens.forget(record.customer);
      else if (response.status === 429)
        retryAfterMs = Math.max(retryAfterMs, 1_000 * Number(response.headers.get('retry-after') ?? 1));
      else if (response.status < 500 && response.status !== 409) {
        record.outcome = 'refused'; // retrying the same request cannot change the answer
        return;
      }
    } catch (error) {
      record.lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    if (Date.now() + retryAfterMs > clients.giveUpAt()) return; // unknown: maybe placed, maybe not
    await sleep(retryAfterMs);
  }
}

/** Access tokens per customer, fetched on first use and again after a 401. */
class Tokens {
  private readonly cache = new Map<string, Promise<string>>();
  constructor(private readonly clients: WorkloadClients) {}

  get(username: string): Promise<string> {
    let token = this.cache.get(username);
    if (!token) {
      token = this.login(username);
      this.cache.set(username, token);
      token.catch(() => this.cache.delete(username));
    }
    return token;
  }

  forget(username: string): void {
    this.cache.delete(username);
  }

  private async login(username: string): Promise<string> {
    const credentials = this.clients.credentials.find((c) => c.username === username);
    if (!credentials) throw new Error(`no credentials for ${username}`);
    const response = await fetch(`${this.clients.gatewayUrl}/v1/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', ...credentials }),
      signal: AbortSignal.timeout(this.clients.requestTimeoutMs),
    });
    const body = (await response.json().catch(() => ({}))) as { access_token?: string };
    if (!response.ok || !body.access_token) throw new Error(`login as ${username}: HTTP ${response.status}`);
    return body.access_token;
  }
}
