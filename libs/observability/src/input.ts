import { AppError } from '@saga-lab/errors';
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { declareHttpStatuses } from './http-statuses';

const MESSAGES = { body: 'the request body is invalid', query: 'the query parameters are invalid' };
declareHttpStatuses({ VALIDATION_FAILED: 400 });

/**
 * Parses HTTP input with its schema. A mismatch is a 400 VALIDATION_FAILED in the one error format, with one
 * `{ path, message }` per problem — never a 5xx later, deep inside a handler.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  part: 'body' | 'query',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new AppError('VALIDATION_FAILED', MESSAGES[part], {
    details: result.error.issues.map((i) => ({ path: i.path.join('.') || `(${part})`, message: i.message })),
  });
}

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,100}$/;

/**
 * The caller's correlation id when it is usable (it travels on in every message envelope, which bounds it),
 * or a new one: a malformed header is replaced, never fatal and never passed on.
 */
export function correlationIdFrom(header: unknown): string {
  return typeof header === 'string' && CORRELATION_ID.test(header) ? header : randomUUID();
}
