import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  proxyName,
  toxiproxy,
  type ComponentName,
  type ProxiedLink,
  type ServiceName,
  type System,
} from '@saga-lab/stack';

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
