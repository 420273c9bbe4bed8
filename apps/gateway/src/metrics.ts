import { ServiceMetrics } from '@saga-lab/observability';
import { Counter, Gauge, Histogram } from 'prom-client';

/** The gateway's metrics: RED per route, and one family per edge mechanism, so each can be watched. */
export class GatewayMetrics extends ServiceMetrics {
  readonly requests = new Counter({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'gateway_http_request_duration_seconds',
    help: 'HTTP request duration by route and method',
    labelNames: ['route', 'method'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly upstreamRequests = new Counter({
    name: 'gateway_upstream_requests_total',
    help: 'Calls to services by service, instance and outcome (ok, client_error, failure)',
    labelNames: ['service', 'instance', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly breakerState = new Gauge({
    name: 'gateway_circuit_breaker_state',
    help: 'Circuit breaker per dependency: 0 closed, 1 open, 2 half-open, 3 isolated',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });
  readonly breakerTransitions = new Counter({
    name: 'gateway_circuit_breaker_transitions_total',
    help: 'Circuit breaker state changes per dependency',
    labelNames: ['dependency', 'to'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'gateway_rate_limited_total',
    help: 'Requests refused by the rate limiter, by policy',
    labelNames: ['policy'] as const,
    registers: [this.registry],
  });
  readonly rateLimiterErrors = new Counter({
    name: 'gateway_rate_limiter_errors_total',
    help: 'Rate-limiter calls to Redis that failed (the request was let through)',
    registers: [this.registry],
  });
  readonly idempotency = new Counter({
    name: 'gateway_idempotency_requests_total',
    help: 'Requests with an Idempotency-Key by outcome (first, replayed, in_flight, mismatch)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly cacheLookups = new Counter({
    name: 'gateway_product_cache_lookups_total',
    help: 'Product reads by what answered: memory, redis, coalesced (a load already in flight), origin (a miss)',
    labelNames: ['tier'] as const,
    registers: [this.registry],
  });
  readonly cacheInvalidations = new Counter({
    name: 'gateway_product_cache_invalidations_total',
    help: 'Cached products dropped because a ProductUpdated event arrived',
    registers: [this.registry],
  });
  readonly originLoads = new Counter({
    name: 'gateway_product_cache_origin_loads_total',
    help: 'Product loads from the inventory service (misses after single-flight, and early refreshes)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly cacheHitRatio = new Gauge({
    name: 'gateway_product_cache_hit_ratio',
    help: 'Share of product reads answered from memory or Redis since start',
    registers: [this.registry],
    // Computed at scrape time from the lookup counter, so the two can never disagree.
    collect: async () => {
      const { values } = await this.cacheLookups.get();
      const total = values.reduce((sum, v) => sum + v.value, 0);
      const hits = values.filter((v) => v.labels['tier'] !== 'origin').reduce((sum, v) => sum + v.value, 0);
      this.cacheHitRatio.set(total === 0 ? 0 : hits / total);
    },
  });

  constructor() {
    super('gateway');
  }
}
