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

/**
 * Safeguards the failure lab switches off, one at a time, to show what breaks without each — and to prove
 * its invariant checker can fail. Every one is on unless a lab run says otherwise:
 * - `inbox`: consumers de-duplicate deliveries by message id (the inbox);
 * - `outbox`: handlers stage messages in the outbox, in their transaction (off: published directly after
 *   the commit — the dual write the outbox exists to avoid);
 * - `reaper`: the order service moves overdue sagas to compensation;
 * - `provider-idempotency`: the payment service sends the provider a key per order and operation (off: a
 *   fresh key per attempt, so a retry charges again);
 * - `reconciliation`: the payment service voids or refunds what the provider holds for no live order.
 */
export const SAFEGUARDS = ['inbox', 'outbox', 'reaper', 'provider-idempotency', 'reconciliation'] as const;
export type Safeguard = (typeof SAFEGUARDS)[number];

/** The failure lab's switches, in every service's config. Refused unless the lab started the service. */
export const labConfig = {
  /** The failure-lab run that started this process (`npm run lab` sets it); nothing else should. */
  SAGA_LAB_LAB_RUN: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/, 'a lab run id')
    .optional(),
  /** Comma-separated safeguards to switch OFF (see SAFEGUARDS); only inside a lab run. */
  SAGA_LAB_SAFEGUARDS_OFF: z
    .string()
    .default('')
    .transform((value, ctx) => {
      const names = value
        .split(',')
        .map((name) => name.trim())
        .filter(Boolean);
      for (const name of names)
        if (!(SAFEGUARDS as readonly string[]).includes(name))
          ctx.addIssue({
            code: 'custom',
            message: `unknown safeguard ${name} (one of ${SAFEGUARDS.join(', ')})`,
          });
      return names as Safeguard[];
    }),
  /** Added to the clock the order service's saga deadlines are computed and checked with (lab only). */
  SAGA_LAB_CLOCK_SKEW_MS: z.coerce.number().int().min(-3_600_000).max(3_600_000).default(0),
};

export interface LabSwitches {
  /** The lab run id, when a lab run started this process. */
  readonly labRun: string | undefined;
  readonly off: ReadonlySet<Safeguard>;
  readonly clockSkewMs: number;
  /** Whether a safeguard is on (the default). */
  on(safeguard: Safeguard): boolean;
}

/**
 * The lab switches a service runs with. A safeguard switched off, or a skewed clock, outside a lab run is
 * a configuration error: these exist to break the system on purpose and must never be on by accident.
 */
export function labSwitches(
  service: string,
  config: {
    readonly SAGA_LAB_LAB_RUN?: string | undefined;
    readonly SAGA_LAB_SAFEGUARDS_OFF: readonly Safeguard[];
    readonly SAGA_LAB_CLOCK_SKEW_MS: number;
  },
): LabSwitches {
  const labRun = config.SAGA_LAB_LAB_RUN;
  const off = new Set(config.SAGA_LAB_SAFEGUARDS_OFF);
  if (!labRun && (off.size > 0 || config.SAGA_LAB_CLOCK_SKEW_MS !== 0))
    throw new Error(
      `${service}: invalid configuration — SAGA_LAB_SAFEGUARDS_OFF and SAGA_LAB_CLOCK_SKEW_MS break the system on purpose and are accepted only in a failure-lab run (npm run lab)`,
    );
  return { labRun, off, clockSkewMs: config.SAGA_LAB_CLOCK_SKEW_MS, on: (s) => !off.has(s) };
}

/** The outbox relay's failure-lab knobs, in every saga service's config. */
export const relayConfig = {
  ...labConfig,
  /** `off`: committed messages wait in the outbox, as after a crash between commit and publish. */
  SAGA_LAB_OUTBOX_RELAY: z.enum(['on', 'off']).default('on'),
  /** `true`: every outbox message is published twice; consumers must show no second effect. */
  SAGA_LAB_DUPLICATE_DELIVERY: z.enum(['true', 'false']).default('false'),
};

/**
 * The relay's knobs from a service's config. Like the safeguard switches, a stopped relay or duplicated
 * publishes break the system on purpose: accepted only in a failure-lab run (SAGA_LAB_LAB_RUN set).
 */
export function relayKnobs(config: {
  readonly SAGA_LAB_LAB_RUN?: string | undefined;
  readonly SAGA_LAB_OUTBOX_RELAY: 'on' | 'off';
  readonly SAGA_LAB_DUPLICATE_DELIVERY: 'true' | 'false';
}): RelayKnobs {
  const knobs = {
    enabled: config.SAGA_LAB_OUTBOX_RELAY === 'on',
    duplicateDelivery: config.SAGA_LAB_DUPLICATE_DELIVERY === 'true',
  };
  if (!config.SAGA_LAB_LAB_RUN && (!knobs.enabled || knobs.duplicateDelivery))
    throw new Error(
      'invalid configuration — SAGA_LAB_OUTBOX_RELAY=off and SAGA_LAB_DUPLICATE_DELIVERY=true break the system on purpose and are accepted only in a failure-lab run (SAGA_LAB_LAB_RUN, set by npm run lab)',
    );
  return knobs;
}

/** A service's logger: JSON lines with its name and release, trace and correlation ids, secrets redacted. */
export const serviceLogger = (name: string, level = 'info'): LoggerService =>
  new PinoNestLogger(createLogger({ name, version: RELEASE }, level));
