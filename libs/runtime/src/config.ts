import { z } from 'zod';

/**
 * Validates a service's configuration at boot. A wrong value stops the service with one line naming each
 * variable and what was expected, instead of a failure later, deep inside a client.
 */
export function parseConfig<S extends z.ZodType>(
  service: string,
  schema: S,
  env: NodeJS.ProcessEnv,
): z.output<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${service}: invalid configuration — ${problems}`);
  }
  return parsed.data;
}

/** Fields every service validates the same way. */
export const kafkaBrokers = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/, 'a comma-separated host:port list');
export const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });
