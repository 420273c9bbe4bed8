import { applyDecorators, type INestApplication } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiHeader,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
} from '@nestjs/swagger';
import { z } from 'zod';
import { errorBody } from './schemas';

type JsonSchema = Record<string, unknown>;

/**
 * The document's tags, each declared once with what it groups. Swagger UI lists an operation under every
 * tag it has, so each operation names exactly one of these (`Operation({ tag })`).
 */
export const API_TAGS = {
  auth: 'Log in with a password, rotate refresh tokens, log out',
  products: 'The product catalog: cursor pages, ETag/304, changes by admins',
  orders: 'Place orders (with an Idempotency-Key) and read them back, assembled from the services',
} as const;
export type ApiTag = keyof typeof API_TAGS;

/**
 * The gateway's OpenAPI document (served at /docs): the /v1 operations, each under the one tag its
 * `Operation()` names. NestJS swagger would also tag every operation of an untagged controller with the
 * controller's class name ("Auth", "Products", …), listing each operation twice, so that is switched off.
 */
export function openApiDocument(app: INestApplication): OpenAPIObject {
  const builder = new DocumentBuilder()
    .setTitle('Saga Lab API')
    .setDescription(
      'The public edge of Saga Lab. Every error has one format: {"error":{"code","message","details?","correlationId"}}. ' +
        'Every /v1 route is rate limited (RateLimit-* headers; 429 with Retry-After).',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  for (const [name, description] of Object.entries(API_TAGS)) builder.addTag(name, description);
  const document = SwaggerModule.createDocument(app, builder.build(), { autoTagControllers: false });
  document.paths = Object.fromEntries(
    Object.entries(document.paths).filter(([path]) => path.startsWith('/v1/')),
  );
  return document;
}

/** OpenAPI 3.0 schema of a zod schema (the API's single source of shapes). */
export function jsonSchema(schema: z.ZodType, io: 'input' | 'output' = 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io,
    unrepresentable: 'any',
  });
  return rest;
}

const ERRORS: Record<number, { description: string; code: string; message: string }> = {
  400: { description: 'Invalid input', code: 'VALIDATION_FAILED', message: 'the request body is invalid' },
  401: {
    description: 'Missing, invalid or expired credentials',
    code: 'UNAUTHENTICATED',
    message: 'a Bearer access token is required',
  },
  403: {
    description: 'Authenticated, but the role may not do this',
    code: 'FORBIDDEN',
    message: 'this operation needs the role admin',
  },
  404: { description: 'No such resource (or not yours)', code: 'NOT_FOUND', message: 'no such resource' },
  409: {
    description: 'Conflicts with the resource or a request in flight',
    code: 'IDEMPOTENCY_KEY_IN_USE',
    message: 'a request with this Idempotency-Key is still being processed; retry shortly',
  },
  413: {
    description: 'Body larger than the limit',
    code: 'PAYLOAD_TOO_LARGE',
    message: 'Request body is too large',
  },
  415: { description: 'Body is not JSON', code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported Media Type' },
  422: {
    description: 'Understood but refused',
    code: 'IDEMPOTENCY_KEY_REUSED',
    message: 'this Idempotency-Key was used with different parameters',
  },
  429: {
    description: 'Rate limited',
    code: 'RATE_LIMITED',
    message: 'too many requests (user limit); retry in 1 s',
  },
  503: {
    description: 'A service it needs is down (circuit open or unreachable)',
    code: 'DEPENDENCY_UNAVAILABLE',
    message: 'the order service is unavailable; retry later',
  },
  504: {
    description: 'A service it needs did not answer within the request deadline',
    code: 'DEADLINE_EXCEEDED',
    message: 'the order service did not answer in time',
  },
};

const header = (description: string, type: 'string' | 'integer' = 'string') => ({
  description,
  schema: { type },
});
const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': header('Burst size of the policy closest to empty', 'integer'),
  'RateLimit-Remaining': header('Tokens left in it', 'integer'),
  'RateLimit-Reset': header('Seconds until it is full again', 'integer'),
  'RateLimit-Policy': header('The policy: burst;w=seconds to refill;policy="name"'),
};

export interface OperationSpec {
  readonly tag: ApiTag;
  readonly summary: string;
  readonly description?: string;
  readonly auth: boolean;
  readonly deprecated?: boolean;
  readonly body?: { readonly schema: z.ZodType; readonly example: unknown };
  readonly params?: Readonly<Record<string, z.ZodType>>;
  readonly query?: z.ZodObject;
  readonly headers?: readonly { name: string; description: string; required: boolean; schema: z.ZodType }[];
  readonly responses: readonly {
    readonly status: number;
    readonly description: string;
    readonly schema?: z.ZodType;
    readonly example?: unknown;
    readonly headers?: Readonly<Record<string, { description: string; schema: { type: string } }>>;
  }[];
  /** Error statuses this operation can answer besides the ones every operation can (400, 413, 415, 429). */
  readonly errors: readonly number[];
}

/** One decorator per operation: its documentation, generated from the same zod schemas it validates with. */
export function Operation(spec: OperationSpec): MethodDecorator {
  const errors = [...new Set([400, 413, 415, 429, ...(spec.auth ? [401] : []), ...spec.errors])].sort();
  return applyDecorators(
    ApiTags(spec.tag),
    ApiOperation({
      summary: spec.summary,
      ...(spec.description ? { description: spec.description } : {}),
      deprecated: spec.deprecated ?? false,
    }),
    ...(spec.auth ? [ApiBearerAuth()] : []),
    ...(spec.body
      ? [ApiBody({ schema: { ...jsonSchema(spec.body.schema, 'input'), example: spec.body.example } })]
      : []),
    ...Object.entries(spec.params ?? {}).map(([name, schema]) =>
      ApiParam({ name, required: true, schema: jsonSchema(schema, 'input') }),
    ),
    ...Object.entries(spec.query?.shape ?? {}).map(([name, schema]) =>
      ApiQuery({ name, required: false, schema: jsonSchema(schema as z.ZodType, 'input') }),
    ),
    ...(spec.headers ?? []).map((h) =>
      ApiHeader({
        name: h.name,
        description: h.description,
        required: h.required,
        schema: jsonSchema(h.schema, 'input'),
      }),
    ),
    ...spec.responses.map((r) =>
      ApiResponse({
        status: r.status,
        description: r.description,
        headers: { ...RATE_LIMIT_HEADERS, ...(r.headers ?? {}) },
        ...(r.schema
          ? {
              schema: { ...jsonSchema(r.schema), ...(r.example === undefined ? {} : { example: r.example }) },
            }
          : {}),
      }),
    ),
    ...errors.map((status) => {
      const known = ERRORS[status] ?? { description: 'Error', code: 'ERROR', message: 'error' };
      return ApiResponse({
        status,
        description: known.description,
        headers: {
          ...RATE_LIMIT_HEADERS,
          ...(status === 429 || status === 503 || status === 409
            ? { 'Retry-After': header('Seconds to wait before retrying', 'integer') }
            : {}),
        },
        schema: {
          ...jsonSchema(errorBody),
          example: {
            error: {
              code: known.code,
              message: known.message,
              correlationId: '6f1c2a4e-0d1b-4c51-9a63-2b7f1e0c9d11',
            },
          },
        },
      });
    }),
  );
}
