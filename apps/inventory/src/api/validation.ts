import { DomainError } from '@saga-lab/observability';
import type { z } from 'zod';

const MESSAGES = { body: 'the request body is invalid', query: 'the query parameters are invalid' };

/** 400 VALIDATION_FAILED with one `{ path, message }` per problem, in the one error format. */
export function invalid(error: z.ZodError, part: 'body' | 'query'): DomainError {
  return new DomainError(
    400,
    'VALIDATION_FAILED',
    MESSAGES[part],
    error.issues.map((i) => ({ path: i.path.join('.') || `(${part})`, message: i.message })),
  );
}
