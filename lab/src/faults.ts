import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ComponentName, ServiceName, System } from '@saga-lab/stack';

/** What a fault needs while it runs. */
export interface FaultContext {
  readonly system: System;
  readonly runId: string;
  readonly log: (line: string) => void;
}

/** One fault: injected at its start, healed at its end (healing must be safe to call twice). */
export interface Fault {
  readonly name: string;
  inject(ctx: FaultContext): Promise<void>;
  heal(ctx: FaultContext): Promise<void>;
}

/** A fault at a time: `atMs` from the start of the workload, for `forMs`. */
export interface ScheduledFault {
  readonly fault: Fault;
  readonly atMs: number;
  readonly forMs: number;
}

/** SIGKILL a component, then start it again: a crash, mid-saga (the workload is running). */
export const crash = (name: ComponentName): Fault => ({
  name: `SIGKILL ${name}`,
  inject: ({ system }) => system.kill(name),
  heal: async ({ system }) => {
    if (system.pid(name) === undefined) await system.start(name);
  },
});

/**
 * A crash between commit and publish: the service's relay is held back (committed messages wait), then it
 * is SIGKILLed with messages still unpublished, and restarted with its relay running. With the outbox the
 * messages are in its database and go out after the restart; without it they were only in memory.
 */
export const crashBeforePublish = (name: ServiceName): Fault => {
  const hold = { SAGA_LAB_OUTBOX_RELAY: 'off' };
  return {
    name: `SIGKILL ${name} between commit and publish`,
    inject: ({ system, runId }) => system.restartWith(name, hold, runId),
    heal: async ({ system, runId }) => {
      if (system.pid(name) !== undefined) await system.kill(name);
      await system.restartWith(name, { SAGA_LAB_OUTBOX_RELAY: 'on' }, runId);
    },
  };
};

/** Messages held back at the sender for the fault's duration, then delivered late (and in a burst). */
export const delayedDelivery = (name: ServiceName): Fault => ({
  name: `deliveries from ${name} delayed`,
  inject: ({ system, runId }) => system.restartWith(name, { SAGA_LAB_OUTBOX_RELAY: 'off' }, runId),
  heal: ({ system, runId }) => system.restartWith(name, { SAGA_LAB_OUTBOX_RELAY: 'on' }, runId),
});

/** A graceful stop and start (PostgreSQL: a fast shutdown, open transactions rolled back). */
export const restart = (name: ComponentName): Fault => ({
  name: `${name} down (restart)`,
  inject: ({ system }) => system.stop(name),
  heal: async ({ system }) => {
    if (system.pid(name) === undefined) await system.start(name);
  },
});

/** Redis loses everything it held (it runs without persistence): rate-limit buckets, idempotency records, caches, sessions. */
export const redisLoss: Fault = {
  name: 'Redis lost (SIGKILL, restarted empty)',
  inject: ({ system }) => system.kill('redis'),
  heal: async ({ system }) => {
    if (system.pid('redis') === undefined) await system.start('redis');
  },
};

/** The payment provider simulator's faults (PUT /provider/faults on the payment service). */
export interface ProviderFaultSettings {
  readonly declineRate?: number;
  readonly latencyMs?: number;
  readonly timeoutRate?: number;
  readonly lostResponseRate?: number;
  /** Which provider operations the timeouts and lost responses hit (all when absent). */
  readonly operations?: readonly ('authorize' | 'capture' | 'void' | 'refund' | 'find')[];
}

const NO_PROVIDER_FAULTS = { declineRate: 0, latencyMs: 0, timeoutRate: 0, lostResponseRate: 0 };

export async function setProviderFaults(system: System, faults: ProviderFaultSettings): Promise<void> {
  const response = await fetch(`${system.address('payment')}/provider/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok)
    throw new Error(`setting the provider's faults: HTTP ${response.status} ${await response.text()}`);
}

export const providerFaults = (name: string, settings: ProviderFaultSettings): Fault => ({
  name,
  inject: ({ system }) => setProviderFaults(system, settings),
  heal: ({ system }) => setProviderFaults(system, { ...NO_PROVIDER_FAULTS, operations: [] }),
});

/**
 * A consumer-group rebalance storm: extra instances of the participants join their consumer groups and
 * leave again (alternately killed and stopped gracefully), every `periodMs`, for the fault's duration.
 */
export const rebalanceStorm = (services: readonly ServiceName[], periodMs: number): Fault => {
  let running = false;
  let loop: Promise<void> | undefined;
  const extras = new Set<ChildProcess>();
  return {
    name: `rebalance storm (${services.join(', ')} instances joining and leaving every ${periodMs} ms)`,
    async inject({ system, log }) {
      running = true;
      loop = (async () => {
        for (let round = 0; running; round++) {
          const name = services[round % services.length] as ServiceName;
          const child = system.spawnExtra(name, 30_000 + (round % 1_000));
          extras.add(child);
          await sleep(periodMs);
          child.kill(round % 2 === 0 ? 'SIGKILL' : 'SIGTERM');
          extras.delete(child);
          log(`  ⟳ an extra ${name} joined and left (${round % 2 === 0 ? 'killed' : 'stopped'})`);
        }
      })();
    },
    async heal() {
      running = false;
      await loop;
      for (const child of extras) child.kill('SIGKILL');
      extras.clear();
    },
  };
};

/**
 * A link between a service and something it calls, routed through a Toxiproxy proxy for the run: the
 * service is restarted with its client variable pointing at the proxy, and the faults act on the proxy
 * (latency, a stalled connection, resets, the link cut). Kafka needs its own listener for this: clients
 * reconnect to the broker's *advertised* address, so the stack's PROXIED listener advertises the proxy's.
 */
export interface ProxiedLink {
  readonly name: string;
  readonly service: ServiceName;
  /** Port offset of the profile (the test profile's ports are +10 000). */
  proxy(system: System): { listen: string; upstream: string; env: Record<string, string> };
}

const offset = (system: System): number => (system.isTestProfile ? 10_000 : 0);
const hostPort = (url: string): string => new URL(url).host;

export const LINKS = {
  'payment-postgres': {
    name: 'payment-postgres',
    service: 'payment',
    proxy(system) {
      const admin = new URL(system.env('DATABASE_URL'));
      const listen = `127.0.0.1:${8476 + offset(system)}`;
      const upstream = admin.host;
      admin.host = listen;
      // The stack derives the payment database's URL from the admin URL: pointing that at the proxy
      // routes the service (and the provider simulator's ledger) through it.
      return { listen, upstream, env: { DATABASE_URL: admin.toString() } };
    },
  },
  'inventory-kafka': {
    name: 'inventory-kafka',
    service: 'inventory',
    proxy(system) {
      const listen = system.env('KAFKA_PROXIED_BROKERS');
      return { listen, upstream: system.env('KAFKA_PROXIED_UPSTREAM'), env: { KAFKA_BROKERS: listen } };
    },
  },
  'order-inventory': {
    name: 'order-inventory',
    service: 'order',
    proxy(system) {
      const listen = `127.0.0.1:${8477 + offset(system)}`;
      return {
        listen,
        upstream: hostPort(system.address('inventory')),
        // The catalog calls go to INVENTORY_URL instead of an instance from Consul.
        env: { INVENTORY_URL: `http://${listen}`, ORDER_INVENTORY_DISCOVERY: 'static' },
      };
    },
  },
} satisfies Record<string, ProxiedLink>;
export type LinkName = keyof typeof LINKS;

const proxyName = (link: ProxiedLink): string => `lab-${link.name}`;

async function toxiproxy(system: System, method: string, path: string, body?: unknown): Promise<void> {
  const response = await fetch(`${system.address('toxiproxy')}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(5_000),
  });
  if (!response.ok && !(method === 'DELETE' && response.status === 404))
    throw new Error(`Toxiproxy ${method} ${path}: HTTP ${response.status} ${await response.text()}`);
}

/** Creates the link's proxy (replacing a leftover one) and returns the environment that routes the service through it. */
export async function openLink(system: System, link: ProxiedLink): Promise<Record<string, string>> {
  const { listen, upstream, env } = link.proxy(system);
  await toxiproxy(system, 'DELETE', `/proxies/${proxyName(link)}`);
  await toxiproxy(system, 'POST', '/proxies', { name: proxyName(link), listen, upstream, enabled: true });
  return env;
}

export const closeLink = (system: System, link: ProxiedLink): Promise<void> =>
  toxiproxy(system, 'DELETE', `/proxies/${proxyName(link)}`);

export type LinkFault =
  | { readonly kind: 'latency'; readonly latencyMs: number; readonly jitterMs: number }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'reset'; readonly afterMs: number }
  | { readonly kind: 'partition' };

const describeLinkFault = (f: LinkFault): string =>
  f.kind === 'latency'
    ? `${f.latencyMs} ms ± ${f.jitterMs} ms latency`
    : f.kind === 'timeout'
      ? `connections stalled, closed after ${f.afterMs} ms`
      : f.kind === 'reset'
        ? `connections reset after ${f.afterMs} ms`
        : 'partition (the link cut)';

/** A Toxiproxy fault on a link: a toxic on both directions, or the proxy disabled (a partition). */
export const onLink = (link: ProxiedLink, fault: LinkFault): Fault => {
  const proxy = proxyName(link);
  const toxics =
    fault.kind === 'latency'
      ? [{ type: 'latency', attributes: { latency: fault.latencyMs, jitter: fault.jitterMs } }]
      : fault.kind === 'timeout'
        ? [{ type: 'timeout', attributes: { timeout: fault.afterMs } }]
        : fault.kind === 'reset'
          ? [{ type: 'reset_peer', attributes: { timeout: fault.afterMs } }]
          : [];
  const names = (['upstream', 'downstream'] as const).flatMap((stream) =>
    toxics.map((t) => ({ ...t, stream, name: `lab-${t.type}-${stream}` })),
  );
  return {
    name: `${link.name}: ${describeLinkFault(fault)}`,
    async inject({ system }) {
      if (fault.kind === 'partition')
        await toxiproxy(system, 'POST', `/proxies/${proxy}`, { enabled: false });
      for (const toxic of names) await toxiproxy(system, 'POST', `/proxies/${proxy}/toxics`, toxic);
    },
    async heal({ system }) {
      if (fault.kind === 'partition') await toxiproxy(system, 'POST', `/proxies/${proxy}`, { enabled: true });
      for (const toxic of names) await toxiproxy(system, 'DELETE', `/proxies/${proxy}/toxics/${toxic.name}`);
    },
  };
};
