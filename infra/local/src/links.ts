import { overrideVar, type ServiceName } from './config';
import type { System } from './system';

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

/**
 * The variable that points a service's stack at another address for a component (the proxy): the plain
 * name, or SAGA_LAB_TEST_<name> in the test profile — which reads only those, so a plain DATABASE_URL
 * there would leave the service on the direct link and the fault on an idle proxy.
 */
const pointing = (system: System, envVar: string): string =>
  overrideVar(envVar, { SAGA_LAB_PROFILE: system.isTestProfile ? 'test' : '' });
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
      return { listen, upstream, env: { [pointing(system, 'DATABASE_URL')]: admin.toString() } };
    },
  },
  'inventory-kafka': {
    name: 'inventory-kafka',
    service: 'inventory',
    proxy(system) {
      const listen = system.env('KAFKA_PROXIED_BROKERS');
      return {
        listen,
        upstream: system.env('KAFKA_PROXIED_UPSTREAM'),
        env: { [pointing(system, 'KAFKA_BROKERS')]: listen },
      };
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
        env: { [pointing(system, 'INVENTORY_URL')]: `http://${listen}`, ORDER_INVENTORY_DISCOVERY: 'static' },
      };
    },
  },
} satisfies Record<string, ProxiedLink>;
export type LinkName = keyof typeof LINKS;

export const proxyName = (link: ProxiedLink): string => `lab-${link.name}`;

export async function toxiproxy(system: System, method: string, path: string, body?: unknown): Promise<void> {
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
