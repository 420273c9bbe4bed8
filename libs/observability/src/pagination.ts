import { AppError } from '@saga-lab/errors';
import { z } from 'zod';
import { declareHttpStatuses } from './http-statuses';

declareHttpStatuses({ INVALID_CURSOR: 400 });

/** Query parameters arrive as strings: only plain digits count as a limit ("1e1", " 5" or "5.0" do not). */
const limit = z
  .string()
  .regex(/^\d{1,3}$/, 'an integer from 1 to 100')
  .transform(Number)
  .pipe(z.number().int().min(1).max(100));

export const DEFAULT_LIMIT = 20;

/** `limit` and `cursor` of a list endpoint; extend it with the endpoint's filters, then `.strict()`. */
export const pageQuery = z.object({
  limit: limit.default(DEFAULT_LIMIT),
  cursor: z.string().min(1).max(512).optional(),
});

export interface Page<T> {
  readonly items: readonly T[];
  /** Where the next page starts; null on the last page. */
  readonly nextCursor: string | null;
}

/**
 * Cursors are opaque to clients (base64url of a JSON position) so the position's shape can change without
 * breaking them; one that does not decode to a valid position is a 400, never a query with a garbage bound.
 */
export function encodeCursor(position: unknown): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

export function decodeCursor<T>(cursor: string, position: z.ZodType<T>): T {
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    decoded = undefined;
  }
  const parsed = position.safeParse(decoded);
  if (!parsed.success)
    throw new AppError('INVALID_CURSOR', 'invalid cursor: pass a nextCursor from an earlier page');
  return parsed.data;
}
