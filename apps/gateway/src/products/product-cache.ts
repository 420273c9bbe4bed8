import type { Redis, Result } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { createHash } from 'node:crypto';
import type { GatewayMetrics } from '../metrics';

export interface Product {
  readonly productId: string;
  readonly name: string;
  readonly price: { readonly amountMinor: number; readonly currency: string };
  readonly available: number;
  readonly version: number;
}

/** Only the public fields, whatever else the service adds later. */
export const toProduct = (p: Product): Product => ({
  productId: p.productId,
  name: p.name,
  price: { amountMinor: p.price.amountMinor, currency: p.price.currency },
  available: p.available,
  version: p.version,
});

export interface CachedProduct {
  readonly product: Product;
  /** Strong validator of the representation (its JSON), for ETag / If-None-Match. */
  readonly etag: string;
  /** When it was loaded from the service (ms since epoch). */
  readonly loadedAt: number;
}

interface Entry extends CachedProduct {
  /** After this moment one read triggers a background refresh (jittered per entry). */
  readonly refreshAt: number;
}

export interface ProductCacheOptions {
  readonly ttlMs: number;
  readonly maxEntries: number;
  /** false: every read goes to the origin (the load tests' "cache off", to show what the cache buys). */
  readonly enabled?: boolean;
  /** Fraction of the TTL over which early refreshes are spread (0.2 → between 60 % and 80 % of it). */
  readonly jitter?: number;
  readonly random?: () => number;
  readonly now?: () => number;
}

/** Loads a product from its owner; undefined when it does not exist. */
export type ProductLoader = (productId: string) => Promise<Product | undefined>;

/**
 * Writes a product to Redis only if it is newer than what is there: an invalidation (carrying the new
 * version) and a slow load of an older version can race, and the older one must lose.
 * KEYS: the product's key. ARGV: version, JSON, TTL ms.
 */
const SET_IF_NEWER_SCRIPT = `
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'entry', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    setProductIfNewer(key: string, version: number, entry: string, ttlMs: number): Result<number, Context>;
  }
}

export const etagOf = (product: Product): string =>
  `"${createHash('sha256').update(JSON.stringify(product)).digest('base64url').slice(0, 27)}"`;

/**
 * Cache-aside for product reads, in two tiers: a bounded in-process LRU (no Redis round trip on a hit)
 * in front of Redis (shared by every gateway). A miss is single-flight: however many requests miss the
 * same product at once, one loads it and the others wait for that load. Entries are refreshed early, at
 * a jittered moment before they expire, so hot products never all expire (and stampede) together.
 * ProductUpdated events (see invalidation.ts) drop the local copy and replace the shared one.
 */
export class ProductCache {
  private readonly memory: LRUCache<string, Entry>;
  private readonly inFlight = new Map<string, Promise<CachedProduct | undefined>>();
  /** Bumped by every invalidation: a load that started before one must not store what it read. */
  private readonly generation = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly enabled: boolean;

  constructor(
    private readonly redis: Redis,
    private readonly load: ProductLoader,
    private readonly metrics: GatewayMetrics,
    options: ProductCacheOptions,
  ) {
    this.ttlMs = options.ttlMs;
    this.jitter = options.jitter ?? 0.2;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.enabled = options.enabled ?? true;
    this.memory = new LRUCache({ max: options.maxEntries, ttl: options.ttlMs, ttlAutopurge: false });
    redis.defineCommand('setProductIfNewer', { numberOfKeys: 1, lua: SET_IF_NEWER_SCRIPT });
  }

  get size(): number {
    return this.memory.size;
  }

  async get(productId: string): Promise<CachedProduct | undefined> {
    if (!this.enabled) {
      this.metrics.cacheLookups.inc({ tier: 'origin' });
      return this.fromOrigin(productId, 'miss', undefined, false);
    }
    const hit = this.memory.get(productId);
    if (hit) {
      this.metrics.cacheLookups.inc({ tier: 'memory' });
      if (this.now() >= hit.refreshAt && !this.inFlight.has(productId)) {
        void this.singleFlight(productId, () => this.fromOrigin(productId, 'early_refresh')).catch(
          () => undefined,
        );
      }
      return hit;
    }
    const running = this.inFlight.get(productId);
    if (running) {
      // Answered by a load already under way: no call of its own, so it counts as a hit ("coalesced").
      this.metrics.cacheLookups.inc({ tier: 'coalesced' });
      return running;
    }
    return this.singleFlight(productId, () => this.fromRedisOrOrigin(productId));
  }

  /** A ProductUpdated event: drop the local copy, and put the new version in Redis for every gateway. */
  async invalidate(product: Product): Promise<void> {
    this.generation.set(product.productId, (this.generation.get(product.productId) ?? 0) + 1);
    this.memory.delete(product.productId);
    this.metrics.cacheInvalidations.inc();
    await this.storeShared({ product, etag: etagOf(product), loadedAt: this.now() });
  }

  private singleFlight(
    productId: string,
    work: () => Promise<CachedProduct | undefined>,
  ): Promise<CachedProduct | undefined> {
    const running = this.inFlight.get(productId);
    if (running) return running;
    const started = work().finally(() => this.inFlight.delete(productId));
    this.inFlight.set(productId, started);
    return started;
  }

  private async fromRedisOrOrigin(productId: string): Promise<CachedProduct | undefined> {
    const generation = this.generation.get(productId) ?? 0;
    const shared = await this.redis.hget(redisKey(productId), 'entry').catch(() => null);
    if (shared) {
      const entry = JSON.parse(shared) as CachedProduct;
      this.metrics.cacheLookups.inc({ tier: 'redis' });
      this.remember(entry, generation);
      return entry;
    }
    this.metrics.cacheLookups.inc({ tier: 'origin' });
    return this.fromOrigin(productId, 'miss', generation);
  }

  private async fromOrigin(
    productId: string,
    reason: 'miss' | 'early_refresh',
    generation = this.generation.get(productId) ?? 0,
    store = true,
  ): Promise<CachedProduct | undefined> {
    this.metrics.originLoads.inc({ reason });
    const product = await this.load(productId);
    if (!product) return undefined;
    const entry: CachedProduct = { product, etag: etagOf(product), loadedAt: this.now() };
    if (!store) return entry;
    this.remember(entry, generation);
    await this.storeShared(entry).catch(() => undefined); // Redis down: still answer from the origin
    return entry;
  }

  private remember(entry: CachedProduct, generation: number): void {
    if ((this.generation.get(entry.product.productId) ?? 0) !== generation) return; // invalidated meanwhile
    const age = Math.max(0, this.now() - entry.loadedAt);
    const remaining = this.ttlMs - age;
    if (remaining <= 0) return;
    const earliness = this.ttlMs * this.jitter * (1 + this.random());
    this.memory.set(
      entry.product.productId,
      { ...entry, refreshAt: entry.loadedAt + this.ttlMs - earliness },
      { ttl: remaining },
    );
  }

  private async storeShared(entry: CachedProduct): Promise<void> {
    await this.redis.setProductIfNewer(
      redisKey(entry.product.productId),
      entry.product.version,
      JSON.stringify(entry),
      this.ttlMs,
    );
  }
}

const redisKey = (productId: string): string => `gw:product:${productId}`;
