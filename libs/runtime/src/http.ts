import 'reflect-metadata';
import type { DynamicModule, LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { ConsulRegistration, consulClient } from '@saga-lab/discovery';
import {
  HttpErrorFilter,
  Readiness,
  declareHttpStatuses,
  edgeServerOptions,
  type HttpStatusTable,
} from '@saga-lab/observability';

/** What every service's HTTP side needs: where it listens, what it serves, and where it registers. */
export interface HttpSpec {
  /** Logical name: Consul service name, log context. */
  readonly name: string;
  readonly host: string;
  /** The address other machines reach it at, registered in Consul; `host` when not set. */
  readonly advertiseHost?: string | undefined;
  readonly port: number;
  readonly bodyLimit: number;
  /** Take the client address from X-Forwarded-For (behind a proxy only). */
  readonly trustProxy?: boolean;
  readonly consulAddress?: string | undefined;
  /** The service's controllers and providers (health and metrics controllers included). */
  readonly module: DynamicModule;
  /** The status each of the service's error codes is answered with (its API's table). */
  readonly httpStatuses: HttpStatusTable;
  /** Shared with the health controller: turned off first when the service stops. */
  readonly readiness: Readiness;
  readonly logger: LoggerService;
}

export interface HttpService {
  readonly url: string;
  /** Graceful stop of the HTTP side: not ready → deregistered → in-flight requests drained → closed. */
  close(): Promise<void>;
}

/**
 * Service defaults, HTTP part: NestJS on Fastify with the one error format — including what Fastify and
 * Node answer before any route — and the body limit. The app is returned unstarted, so a service can add
 * its own hooks, plugins or a microservice transport before `serveHttp`.
 */
export async function createHttpApp(spec: HttpSpec): Promise<NestFastifyApplication> {
  declareHttpStatuses(spec.httpStatuses);
  const app = await NestFactory.create<NestFastifyApplication>(
    spec.module,
    new FastifyAdapter({
      bodyLimit: spec.bodyLimit,
      ...(spec.trustProxy === undefined ? {} : { trustProxy: spec.trustProxy }),
      ...edgeServerOptions(),
    }),
    { logger: spec.logger },
  );
  app.useGlobalFilters(
    new HttpErrorFilter((message, error) =>
      spec.logger.error(`${message}: ${error instanceof Error ? error.stack : String(error)}`),
    ),
  );
  // The HTTP server span knows the method and URL; Fastify knows the route: name the span by it
  // (`GET /v1/products/:productId`), as OpenTelemetry's HTTP conventions ask (`http.route`).
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', async (request) => {
      const route = request.routeOptions.url;
      const span = trace.getActiveSpan();
      if (!route || !span) return;
      span.setAttribute('http.route', route);
      span.updateName(`${request.method} ${route}`);
    });
  return app;
}

/** Listens, then registers in Consul with an HTTP readiness check (when a Consul address is configured). */
export async function serveHttp(app: NestFastifyApplication, spec: HttpSpec): Promise<HttpService> {
  await app.listen(spec.port, spec.host);
  const { port } = app.getHttpServer().address() as { port: number };
  const url = `http://${spec.host}:${port}`;
  // Bound to 0.0.0.0 in a container, it is reached (and health-checked by Consul) at its own IP.
  const advertised = spec.advertiseHost ?? spec.host;
  const registration = spec.consulAddress
    ? new ConsulRegistration(consulClient(spec.consulAddress), {
        name: spec.name,
        id: `${spec.name}-${advertised}-${port}`,
        address: advertised,
        port,
        healthUrl: `http://${advertised}:${port}/health/ready`,
      })
    : undefined;
  await registration?.register();
  return {
    url,
    async close() {
      spec.readiness.accepting = false;
      await registration
        ?.deregister()
        .catch((error: unknown) => spec.logger.warn(`consul deregister: ${String(error)}`));
      await app.close();
    },
  };
}
