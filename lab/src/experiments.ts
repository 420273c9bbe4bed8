import { LINKS, type LinkName, type ServiceEnv, type ServiceName } from '@saga-lab/stack';
import type { Safeguard } from '@saga-lab/runtime';
import type { InvariantName } from './checker';
import {
  crash,
  crashBeforePublish,
  delayedDelivery,
  onLink,
  providerFaults,
  rebalanceStorm,
  redisLoss,
  restart,
  type Fault,
  type LinkFault,
  type ScheduledFault,
} from './faults';
import { between, type Random } from './random';

/** What a run must end with: every invariant holding, or (a safeguard off) at least one of these broken. */
export type Expectation = { readonly holds: true } | { readonly caught: readonly InvariantName[] };

export interface Experiment {
  readonly name: string;
  /** What it does and what it shows, one or two sentences, for the report. */
  readonly lesson: string;
  /** Switches the services run with for the whole run (on top of the defaults). */
  readonly services?: Partial<Record<ServiceName, ServiceEnv>>;
  readonly safeguardOff?: Safeguard;
  /** A link routed through a Toxiproxy proxy for the run (its service restarted to use it). */
  readonly link?: LinkName;
  readonly expect: Expectation;
  /** The fault schedule, from the run's seeded random and the workload's duration. */
  schedule(random: Random, durationMs: number): ScheduledFault[];
}

/** One fault, starting between 25 % and 40 % of the workload, lasting `forMs` (± 25 %). */
const once =
  (fault: Fault, forMs: number) =>
  (random: Random, durationMs: number): ScheduledFault[] => [
    {
      fault,
      atMs: between(random, Math.round(durationMs * 0.25), Math.round(durationMs * 0.4)),
      forMs: between(random, Math.round(forMs * 0.75), Math.round(forMs * 1.25)),
    },
  ];

const HOLDS = { holds: true } as const;
const ALL_SERVICES = ['inventory', 'payment', 'order', 'gateway'] as const;
const everyService = (env: ServiceEnv): Partial<Record<ServiceName, ServiceEnv>> =>
  Object.fromEntries(ALL_SERVICES.map((name) => [name, env]));
const offSwitch = (safeguard: Safeguard): ServiceEnv => ({ SAGA_LAB_SAFEGUARDS_OFF: safeguard });

const kill = (name: ServiceName): Experiment => ({
  name: `kill-${name}`,
  lesson: `SIGKILL of the ${name} service mid-saga, restarted a few seconds later: uncommitted work is rolled back and redone (the consumer's offsets, the outbox, the inbox), committed work is not repeated.`,
  expect: HOLDS,
  schedule: once(crash(name), 3_000),
});

const beforePublish = (name: 'inventory' | 'payment' | 'order'): Experiment => ({
  name: `crash-before-publish-${name}`,
  lesson: `The ${name} service commits but does not publish (its relay held back), then is SIGKILLed: the messages wait in its outbox and go out after the restart.`,
  expect: HOLDS,
  schedule: once(crashBeforePublish(name), 3_000),
});

const providerLostResponse = providerFaults('provider: half the responses lost after acting', {
  lostResponseRate: 0.5,
});
// The authorization lands at the provider 2 s + 2 × the caller's timeout after the call: after the saga's
// authorize deadline (5 s) and its void.
const lateAuthorization = providerFaults('provider: authorizations land after the timeout', {
  timeoutRate: 1,
  latencyMs: 2_000,
  operations: ['authorize'],
});
const lostCapture = providerFaults('provider: captures done, responses lost', {
  lostResponseRate: 1,
  operations: ['capture'],
});
const providerOutage = providerFaults('provider: every authorization times out', {
  timeoutRate: 1,
  operations: ['authorize'],
});

const BASE: readonly Experiment[] = [
  kill('order'),
  kill('inventory'),
  kill('payment'),
  kill('gateway'),
  beforePublish('order'),
  beforePublish('inventory'),
  beforePublish('payment'),
  {
    name: 'kafka-restart',
    lesson:
      'The broker is SIGKILLed and restarted: producers and consumers reconnect; what was committed to an outbox is published once it is back.',
    expect: HOLDS,
    schedule: once(crash('kafka'), 4_000),
  },
  {
    name: 'postgres-restart',
    lesson:
      'PostgreSQL restarts (fast shutdown: open transactions rolled back): handlers fail retriably and are redelivered; nothing half-written remains.',
    expect: HOLDS,
    schedule: once(restart('postgres'), 2_000),
  },
  {
    name: 'redis-loss',
    lesson:
      'Redis loses everything (idempotency records, rate-limit buckets, caches): clients retrying with their keys still get one order each, because the order service de-duplicates on the key too.',
    expect: HOLDS,
    schedule: once(redisLoss, 2_000),
  },
  {
    name: 'duplicate-delivery',
    lesson:
      'Every message is published twice: the inbox drops the second copy, so each command has one effect and one reply.',
    services: everyService({ SAGA_LAB_DUPLICATE_DELIVERY: 'true' }),
    expect: HOLDS,
    schedule: () => [],
  },
  {
    name: 'delayed-delivery',
    lesson:
      'The inventory service’s replies are held back for seconds, then delivered in a burst: late replies after a deadline are ignored or compensated, never applied twice.',
    expect: HOLDS,
    schedule: once(delayedDelivery('inventory'), 6_000),
  },
  {
    name: 'rebalance-storm',
    lesson:
      'Extra inventory and payment instances join and leave their consumer groups every 1.5 s: partitions move mid-batch, deliveries repeat, the inbox and per-order locks keep one effect.',
    expect: HOLDS,
    schedule: once(rebalanceStorm(['inventory', 'payment'], 1_500), 8_000),
  },
  {
    name: 'provider-lost-response',
    lesson:
      'The payment provider acts but half its responses are lost: retries present the same idempotency key and find the charge already made.',
    expect: HOLDS,
    schedule: once(providerLostResponse, 6_000),
  },
  {
    name: 'provider-late-authorization',
    lesson:
      'Authorizations time out for the payment service and land at the provider after the saga voided the order: reconciliation finds the orphan hold in the provider’s ledger and voids it.',
    expect: HOLDS,
    schedule: once(lateAuthorization, 4_000),
  },
  {
    name: 'provider-lost-capture',
    lesson:
      'Captures are made but their responses lost, so the saga’s capture deadline passes and it compensates: the payment service learns from the provider that the money was captured and refunds it instead of voiding.',
    expect: HOLDS,
    schedule: once(lostCapture, 4_000),
  },
  {
    name: 'provider-outage',
    lesson:
      'Every authorization times out for a while: the commands exhaust their retries and go to the DLQ, and the deadline reaper cancels the sagas that would otherwise wait for ever.',
    expect: HOLDS,
    schedule: once(providerOutage, 9_000),
  },
  {
    name: 'clock-skew',
    lesson:
      'The order service’s clock runs 4 s ahead: the reaper sees deadlines pass early and cancels sagas whose participants are still working; compensation still leaves nothing held.',
    services: { order: { SAGA_LAB_CLOCK_SKEW_MS: '4000' } },
    expect: HOLDS,
    schedule: () => [],
  },
];

/** A Toxiproxy fault on one link between a service and what it calls. */
const link = (name: LinkName, fault: LinkFault, forMs: number, lesson: string): Experiment => ({
  name: `${name}-${fault.kind}`,
  lesson,
  link: name,
  expect: HOLDS,
  schedule: once(onLink(LINKS[name], fault), forMs),
});

const LINK_EXPERIMENTS: readonly Experiment[] = [
  link(
    'payment-postgres',
    { kind: 'latency', latencyMs: 300, jitterMs: 100 },
    6_000,
    'Every packet between the payment service and PostgreSQL is 300 ms late: transactions hold their locks longer, the consumer slows, deadlines decide; nothing is applied twice or lost.',
  ),
  link(
    'payment-postgres',
    { kind: 'reset', afterMs: 0 },
    3_000,
    'Connections between the payment service and PostgreSQL are reset: open transactions die mid-way (rolled back by the server), the handlers fail retriably and are redelivered.',
  ),
  link(
    'payment-postgres',
    { kind: 'partition' },
    4_000,
    'The payment service cannot reach PostgreSQL at all for seconds: it is not ready, its commands wait in Kafka or retry, and it carries on from its committed offsets.',
  ),
  link(
    'inventory-kafka',
    { kind: 'latency', latencyMs: 500, jitterMs: 200 },
    6_000,
    'Every packet between the inventory service and the broker is 500 ms late (the client goes through a proxy and, because the broker advertises it, stays behind it): slow, not wrong.',
  ),
  link(
    'inventory-kafka',
    { kind: 'timeout', afterMs: 3_000 },
    5_000,
    'The inventory service’s connections to the broker stall, then close: requests time out, the client reconnects, fetches and commits resume where they stopped.',
  ),
  link(
    'inventory-kafka',
    { kind: 'partition' },
    5_000,
    'The inventory service is cut off from the broker: its replies wait in its outbox, its commands wait in Kafka; both flow again when the link returns.',
  ),
  link(
    'order-inventory',
    { kind: 'latency', latencyMs: 400, jitterMs: 200 },
    6_000,
    'The order service’s catalog calls to the inventory service are slow: pricing runs into its deadline budget, some orders are refused with 503 and retried by their clients with the same key.',
  ),
  link(
    'order-inventory',
    { kind: 'reset', afterMs: 0 },
    3_000,
    'The order service’s calls to the inventory service are reset: the breaker opens, orders are refused with 503 (never half-created), clients retry with their keys.',
  ),
];

/** The same experiment with one safeguard off: the checker must catch one of these invariants broken. */
const without = (
  name: string,
  safeguard: Safeguard,
  caught: readonly InvariantName[],
  lesson: string,
): Experiment => {
  const base = BASE.find((e) => e.name === name);
  if (!base) throw new Error(`no experiment ${name}`);
  const services = Object.fromEntries(
    ALL_SERVICES.map((service) => [
      service,
      { ...(base.services?.[service] ?? {}), ...offSwitch(safeguard) },
    ]),
  ) as Partial<Record<ServiceName, ServiceEnv>>;
  return {
    ...base,
    name: `${name}-without-${safeguard}`,
    lesson,
    services,
    safeguardOff: safeguard,
    expect: { caught },
  };
};

const SAFEGUARDS_OFF: readonly Experiment[] = [
  without(
    'duplicate-delivery',
    'inbox',
    ['duplicate'],
    'Without the inbox every copy of a command is processed again: the handlers are idempotent per order, so the state is the same, but each duplicate is processed and answered a second time — the checker sees two replies for one command.',
  ),
  without(
    'crash-before-publish-payment',
    'outbox',
    ['lost-message'],
    'Without the outbox, messages are published directly after the commit: the crash between the two loses them for good — committed payments whose replies were never sent.',
  ),
  without(
    'provider-outage',
    'reaper',
    ['stuck'],
    'Without the deadline reaper, sagas whose commands went to the DLQ wait for a reply that never comes: stuck for ever.',
  ),
  without(
    'provider-lost-response',
    'provider-idempotency',
    ['duplicate', 'money'],
    'Without idempotency keys towards the provider, a retry after a lost response is a new request: a second authorization hold, or a second capture the provider refuses as already made — money taken that no confirmed order accounts for.',
  ),
  without(
    'provider-late-authorization',
    'reconciliation',
    ['money'],
    'Without reconciliation, the authorization that landed after the void stays held at the provider for a cancelled order.',
  ),
  without(
    'provider-lost-capture',
    'reconciliation',
    ['money'],
    'Without reconciliation, the compensation tries to void an authorization the provider already captured, is refused, and the customer stays charged for a cancelled order.',
  ),
];

export const EXPERIMENTS: readonly Experiment[] = [...BASE, ...LINK_EXPERIMENTS, ...SAFEGUARDS_OFF];

export function experiment(name: string): Experiment {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found)
    throw new Error(`no experiment "${name}". Experiments: ${EXPERIMENTS.map((e) => e.name).join(', ')}`);
  return found;
}
