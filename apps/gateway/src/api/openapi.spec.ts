import 'reflect-metadata';
import { Module, type INestApplication, type Provider } from '@nestjs/common';
import { SELF_DECLARED_DEPS_METADATA } from '@nestjs/common/constants';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { OpenAPIObject, OperationObject, PathItemObject } from '@nestjs/swagger';
import { GATEWAY_CONTROLLERS } from '../gateway';
import { API_TAGS, openApiDocument } from './openapi';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Documenting never calls a controller, so every dependency the gateway's controllers inject (each names
 * its token with @Inject) gets an empty stand-in: no Redis, Kafka or Consul is needed to build the document.
 */
function standIns(): Provider[] {
  const tokens = new Set<unknown>();
  for (const controller of GATEWAY_CONTROLLERS) {
    const injected = (Reflect.getMetadata(SELF_DECLARED_DEPS_METADATA, controller) ?? []) as {
      param: unknown;
    }[];
    for (const { param } of injected) tokens.add(param);
  }
  return [...tokens].map((token) => ({ provide: token as string, useValue: {} }));
}

describe('the gateway OpenAPI document', () => {
  let app: INestApplication;
  let document: OpenAPIObject;

  beforeAll(async () => {
    @Module({ controllers: [...GATEWAY_CONTROLLERS], providers: standIns() })
    class DocumentedControllers {}
    app = await NestFactory.create(DocumentedControllers, new FastifyAdapter(), { logger: false });
    document = openApiDocument(app);
  });
  afterAll(() => app?.close());

  const operations = (): { name: string; tags: readonly string[] }[] =>
    Object.entries(document.paths).flatMap(([path, item]: [string, PathItemObject]) =>
      METHODS.flatMap((method) => {
        const operation = item[method] as OperationObject | undefined;
        return operation ? [{ name: `${method.toUpperCase()} ${path}`, tags: operation.tags ?? [] }] : [];
      }),
    );

  it('documents every /v1 operation and nothing else', () => {
    expect(operations().map((o) => o.name)).toEqual(
      expect.arrayContaining([
        'POST /v1/auth/token',
        'POST /v1/auth/refresh',
        'POST /v1/auth/logout',
        'GET /v1/products',
        'GET /v1/catalog',
        'GET /v1/products/{productId}',
        'PATCH /v1/products/{productId}',
        'POST /v1/orders',
        'GET /v1/orders',
        'GET /v1/orders/{orderId}',
      ]),
    );
    expect(operations().filter((o) => !o.name.includes(' /v1/'))).toEqual([]);
  });

  it('gives every operation exactly one tag, and that tag is declared', () => {
    const declared = new Set((document.tags ?? []).map((t) => t.name));
    const wrong = operations().filter((o) => o.tags.length !== 1 || !declared.has(o.tags[0] ?? ''));
    expect(wrong).toEqual([]);
  });

  it('declares each tag once, with a description, and only tags some operation uses', () => {
    const declared = (document.tags ?? []).map((t) => t.name);
    expect(declared).toEqual([...new Set(declared)]);
    expect([...declared].sort()).toEqual(Object.keys(API_TAGS).sort());
    expect((document.tags ?? []).filter((t) => !t.description)).toEqual([]);
    const used = new Set(operations().flatMap((o) => o.tags));
    expect(declared.filter((name) => !used.has(name))).toEqual([]);
  });
});
