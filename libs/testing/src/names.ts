import { randomBytes } from 'node:crypto';

/**
 * A name no other test run uses (topics, consumer groups, tables, services), so integration tests
 * isolate themselves on shared infrastructure. Lower-case letters, digits, '-' and '_' only.
 */
export function uniqueName(prefix: string): string {
  const safe = prefix.toLowerCase().replace(/[^a-z0-9_-]+/g, '-');
  return `${safe}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}
