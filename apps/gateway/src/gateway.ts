import 'reflect-metadata';
import { helmetHeaders } from './edge/security-headers';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import { Module, type DynamicModule, type LoggerService } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { SwaggerModule } from '@nestjs/swagger';
import { ConsulDirectory, StaticDirectory, consulClient, type ServiceDirectory } from '@saga-lab/discovery';
import {
  HEALTH_CHECKS,
  HealthController,
  correlationIdFrom,
  MetricsController,
  Readiness,
  ServiceMetrics,
} from '@saga-lab/observability';
import { Deadline } from '@saga-lab/resilience';
import { createHttpApp, serveHttp, serviceLogger, type HttpSpec } from '@saga-lab/runtime';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { AuthController } from './api/auth.controller';
import { DependenciesController } from './api/dependencies.controller';
import { openApiDocument } from './api/openapi';
import { OrdersController } from './api/orders.controller';
import { ProductsController } from './api/products.controller';
import { AccessTokens } from './auth/access-tokens';
import { RefreshTokens } from './auth/refresh-tokens';
import { UserStore } from './auth/users';
import type { GatewayConfig } from './config';
import { GATEWAY_HTTP_STATUSES } from './errors';
import { EdgeGuard, GATEWAY_CONFIG } from './edge/edge.guard';
import { IdempotencyStore } from './edge/idempotency';
import {
  RATE_LIMITER,
  RedisRateLimiter,
  SyncedLocalRateLimiter,
  type RateLimiter,
} from './edge/rate-limiter';
import { GatewayMetrics } from './metrics';
import { ProductInvalidation } from './products/invalidation';
import { ProductCache } from './products/product-cache';
import { productAnswer } from './upstream/answers';
import { DEPENDENCIES, Upstreams } from './upstream/upstreams';

/** Every controller the gateway serves; its OpenAPI document is built from the ones under /v1. */
export const GATEWAY_CONTROLLERS = [
  AuthController,
  ProductsController,
  OrdersController,
  DependenciesController,
  HealthController,
  MetricsController,
] as const;

export interface RunningGateway {
  readonly app: NestFastifyApplication;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The public edge. It holds no domain logic: it authenticates, limits, de-duplicates (idempotency keys),
 * caches product reads, and calls the services through discovery with deadlines, retries and breakers.
 */
export async function startGateway(
  config: GatewayConfig,
  logger: LoggerService = serviceLogger('gateway', config.LOG_LEVEL),
): Promise<RunningGateway> {
  const redis = new Redis(config.REDIS_URL, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    lazyConnect: true,
  });
  redis.on('error', (error: unknown) => logger.warn(`redis: ${String(error)}`));
  await redis.connect();
  const metrics = new GatewayMetrics();

  const consul = config.CONSUL_HTTP_ADDR ? consulClient(config.CONSUL_HTTP_ADDR) : undefined;
  const directory: ServiceDirectory = consul
    ? new ConsulDirectory(consul, DEPENDENCIES, (service, error) =>
        logger.warn(`consul watch ${service}: ${String(error)}`),
      )
    : new StaticDirectory({
        order: config.ORDER_URL,
        inventory: config.INVENTORY_URL,
        payment: config.PAYMENT_URL,
      });
  if (directory instanceof ConsulDirectory) await directory.ready();

  const upstreams = new Upstreams(
    directory,
    {
      failureThreshold: config.GATEWAY_BREAKER_THRESHOLD,
      halfOpenAfterMs: config.GATEWAY_BREAKER_HALF_OPEN_MS,
      maxAttempts: config.GATEWAY_RETRY_ATTEMPTS,
      initialBackoffMs: 25,
      maxBackoffMs: 250,
      callTimeoutMs: config.GATEWAY_CALL_TIMEOUT_MS,
    },
    metrics,
  );
  const cache = new ProductCache(
    redis,
    async (productId) => {
      // A load is shared by every request waiting on it (single-flight), so it has a budget of its own.
      const response = await upstreams.call(
        'inventory',
        {
          method: 'GET',
          path: `/products/${encodeURIComponent(productId)}`,
          deadline: Deadline.within(config.GATEWAY_REQUEST_BUDGET_MS),
          correlationId: randomUUID(),
        },
        productAnswer,
      );
      return response.ok ? response.body : undefined;
    },
    metrics,
    {
      ttlMs: config.GATEWAY_PRODUCT_CACHE_TTL_MS,
      maxEntries: config.GATEWAY_PRODUCT_CACHE_MAX,
      enabled: config.GATEWAY_PRODUCT_CACHE === 'on',
    },
  );
  const kafka = new Kafka({
    clientId: `gateway-${config.GATEWAY_INSTANCE_ID}`,
    brokers: config.KAFKA_BROKERS,
    logLevel: logLevel.WARN,
  });
  const invalidation = new ProductInvalidation(kafka, config.GATEWAY_INSTANCE_ID, cache, (m) =>
    logger.warn(m),
  );
  await invalidation.start();

  const limiter: RateLimiter =
    config.GATEWAY_RATE_LIMIT_MODE === 'exact'
      ? new RedisRateLimiter(redis)
      : new SyncedLocalRateLimiter(redis, config.GATEWAY_RATE_LIMIT_SYNC_MS, (e) =>
          logger.warn(`rate-limit sync: ${String(e)}`),
        );
  const users = await UserStore.seed(config.GATEWAY_USERS);
  const readiness = new Readiness();

  @Module({})
  class GatewayModule {}
  const module: DynamicModule = {
    module: GatewayModule,
    controllers: [...GATEWAY_CONTROLLERS],
    providers: [
      { provide: GATEWAY_CONFIG, useValue: config },
      { provide: GatewayMetrics, useValue: metrics },
      { provide: ServiceMetrics, useValue: metrics },
      { provide: Readiness, useValue: readiness },
      { provide: HEALTH_CHECKS, useValue: { redis: () => redis.ping() } },
      { provide: UserStore, useValue: users },
      {
        provide: AccessTokens,
        useValue: new AccessTokens({
          secret: config.GATEWAY_JWT_SECRET,
          issuer: config.GATEWAY_JWT_ISSUER,
          audience: config.GATEWAY_JWT_AUDIENCE,
          ttlSeconds: config.GATEWAY_ACCESS_TOKEN_TTL_S,
        }),
      },
      {
        provide: RefreshTokens,
        useValue: new RefreshTokens(redis, {
          ttlSeconds: config.GATEWAY_REFRESH_TOKEN_TTL_S,
          sessionTtlSeconds: config.GATEWAY_SESSION_TTL_S,
        }),
      },
      { provide: RATE_LIMITER, useValue: limiter },
      {
        provide: IdempotencyStore,
        useValue: new IdempotencyStore(redis, config.GATEWAY_IDEMPOTENCY_TTL_S, metrics),
      },
      { provide: Upstreams, useValue: upstreams },
      { provide: ProductCache, useValue: cache },
      { provide: APP_GUARD, useClass: EdgeGuard },
    ],
  };

  const http: HttpSpec = {
    name: 'gateway',
    host: config.GATEWAY_HOST,
    advertiseHost: config.GATEWAY_ADVERTISE_HOST,
    port: config.GATEWAY_PORT,
    bodyLimit: config.GATEWAY_BODY_LIMIT,
    trustProxy: config.GATEWAY_TRUST_PROXY,
    consulAddress: config.CONSUL_HTTP_ADDR,
    module,
    httpStatuses: GATEWAY_HTTP_STATUSES,
    readiness,
    logger,
  };
  const app = await createHttpApp(http);
  const fastify = app.getHttpAdapter().getInstance();
  fastify.removeContentTypeParser('text/plain'); // the API speaks JSON only: anything else is a 415
  fastify.addHook('onRequest', async (request, reply) => {
    const correlationId = correlationIdFrom(request.headers['x-correlation-id']);
    request.headers['x-correlation-id'] = correlationId; // the error filter reads it from here
    request.correlationId = correlationId;
    request.deadline = Deadline.within(config.GATEWAY_REQUEST_BUDGET_MS);
    void reply.header('x-correlation-id', correlationId);
    // The trace this request belongs to, so a client can find it in Zipkin (GET /api/v2/trace/<id>).
    const span = trace.getActiveSpan()?.spanContext();
    if (span && isSpanContextValid(span)) void reply.header('x-trace-id', span.traceId);
  });
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.duration.observe({ route, method: request.method }, reply.elapsedTime / 1000);
    // The request log at the edge: one line per request, inside its trace (traceId, spanId added) — or,
    // at high volume (GATEWAY_ACCESS_LOG=errors), only the refused, failed and slow ones: the metrics
    // above count every request either way.
    if (
      config.GATEWAY_ACCESS_LOG === 'errors' &&
      reply.statusCode < 400 &&
      reply.elapsedTime < config.GATEWAY_SLOW_REQUEST_MS
    )
      return;
    logger.log({
      msg: 'request',
      method: request.method,
      route,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      correlationId: request.correlationId,
    });
  });
  // Security headers on every response; the CSP still lets the /docs page load its own script and styles.
  // helmet decides them once, here (they depend on nothing in the request), and each response gets that
  // set: the Fastify plugin rebuilt helmet's middleware on every request, and even built once it sets a
  // dozen headers one by one — 7.6 % of the gateway's CPU on a cached read (docs/measurements.md).
  const securityHeaders = helmetHeaders({
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        frameAncestors: ["'none'"],
      },
    },
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(securityHeaders);
    done();
  });
  // CORS: only the listed origins; preflights answered by the CORS plugin (204).
  app.enableCors({
    origin: config.GATEWAY_CORS_ORIGINS,
    methods: ['GET', 'POST', 'PATCH', 'OPTIONS'],
    allowedHeaders: [
      'authorization',
      'content-type',
      'idempotency-key',
      'if-none-match',
      'x-correlation-id',
      'traceparent',
    ],
    exposedHeaders: [
      'location',
      'etag',
      'link',
      'retry-after',
      'ratelimit-limit',
      'ratelimit-remaining',
      'ratelimit-reset',
      'ratelimit-policy',
      'idempotent-replayed',
      'deprecation',
      'sunset',
      'x-correlation-id',
      'x-trace-id',
    ],
    maxAge: 600,
  });
  const document = openApiDocument(app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });

  const served = await serveHttp(app, http);
  logger.log(`gateway listening on ${served.url} (rate limiting: ${config.GATEWAY_RATE_LIMIT_MODE})`);

  return {
    app,
    url: served.url,
    async close() {
      await served.close(); // not ready, deregistered, requests drained
      await invalidation.stop();
      await limiter.close();
      directory.close();
      await redis.quit();
    },
  };
}
