import type { LoggerService } from '@nestjs/common';
import { PinoNestLogger, RELEASE, createLogger } from '@saga-lab/observability';
import { z } from 'zod';
import type { RelayKnobs } from './boot';

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

/** Fields every service validates the same way. The one parser of KAFKA_BROKERS: a host:port list. */
export const kafkaBrokers = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/, 'a comma-separated host:port list')
  .transform((value) => value.split(','));
export const postgresUrl = z.url({ protocol: /^postgres(ql)?$/ });

/** The outbox relay's failure-lab knobs, in every saga service's config. */
export const relayConfig = {
  /** `off`: committed messages wait in the outbox, as after a crash between commit and publish. */
  SAGA_LAB_OUTBOX_RELAY: z.enum(['on', 'off']).default('on'),
  /** `true`: every outbox message is published twice; consumers must show no second effect. */
  SAGA_LAB_DUPLICATE_DELIVERY: z.enum(['true', 'false']).default('false'),
};

export const relayKnobs = (config: {
  readonly SAGA_LAB_OUTBOX_RELAY: 'on' | 'off';
  readonly SAGA_LAB_DUPLICATE_DELIVERY: 'true' | 'false';
}): RelayKnobs => ({
  enabled: config.SAGA_LAB_OUTBOX_RELAY === 'on',
  duplicateDelivery: config.SAGA_LAB_DUPLICATE_DELIVERY === 'true',
});

/** A service's logger: JSON lines with its name and release, trace and correlation ids, secrets redacted. */
export const serviceLogger = (name: string, level = 'info'): LoggerService =>
  new PinoNestLogger(createLogger({ name, version: RELEASE }, level));
