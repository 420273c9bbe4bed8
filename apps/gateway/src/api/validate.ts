import type { AppError } from '@saga-lab/errors';
import type { z } from 'zod';

/** A path parameter that cannot name a resource: the resource does not exist (404), whatever it is. */
export function parseId<S extends z.ZodType>(
  schema: S,
  value: string,
  notFound: () => AppError,
): z.output<S> {
  const result = schema.safeParse(value);
  // A factory: an error is built (its stack captured) only for an id that is refused, not on every read.
  if (!result.success) throw notFound();
  return result.data;
}

/** RFC 8288 `Link` to the next page, or nothing on the last one. */
export function nextLink(
  path: string,
  limit: number,
  cursor: string | null,
  extra: Record<string, string | undefined> = {},
): string | undefined {
  if (!cursor) return undefined;
  const query = new URLSearchParams({ limit: String(limit), cursor });
  for (const [name, value] of Object.entries(extra)) if (value !== undefined) query.set(name, value);
  return `<${path}?${query.toString()}>; rel="next"`;
}
