import { Module, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import {
  HttpErrorFilter,
  declareHttpStatuses,
  edgeServerOptions,
  type HttpStatusTable,
} from '@saga-lab/observability';

/**
 * Serves some controllers on 127.0.0.1 (NestJS on Fastify with the one error format), without the rest of
 * a service — no Kafka group, no Consul — for testing an HTTP API against a real database.
 */
export async function serveControllers(
  controllers: Type<unknown>[],
  providers: Provider[],
  httpStatuses: HttpStatusTable,
): Promise<{ app: INestApplication; url: string }> {
  declareHttpStatuses(httpStatuses);
  @Module({ controllers, providers })
  class ControllersUnderTest {}
  const app = await NestFactory.create(ControllersUnderTest, new FastifyAdapter(edgeServerOptions()), {
    logger: false,
  });
  app.useGlobalFilters(new HttpErrorFilter());
  await app.listen(0, '127.0.0.1');
  return { app, url: await app.getUrl() };
}
