import type Consul from 'consul';

export interface Instance {
  /** Consul's service id (or the URL for a static entry): identifies the instance in metrics. */
  readonly id: string;
  readonly url: string;
}

/** Where a client finds a service's instances, one at a time. */
export interface ServiceDirectory {
  /** The next instance in round-robin order, or undefined when none is healthy. */
  pick(service: string): Instance | undefined;
  instances(service: string): readonly Instance[];
  close(): void;
}

interface HealthEntry {
  Node?: { Address?: string };
  Service?: { ID?: string; Address?: string; Port?: number };
}

/** Round-robin selection over per-service lists that may be replaced at any time. */
abstract class RoundRobinDirectory implements ServiceDirectory {
  private readonly lists = new Map<string, readonly Instance[]>();
  private readonly next = new Map<string, number>();

  protected set(service: string, instances: readonly Instance[]): void {
    this.lists.set(service, instances);
  }

  instances(service: string): readonly Instance[] {
    return this.lists.get(service) ?? [];
  }

  pick(service: string): Instance | undefined {
    const list = this.instances(service);
    if (list.length === 0) return undefined;
    const index = (this.next.get(service) ?? 0) % list.length;
    this.next.set(service, index + 1);
    return list[index];
  }

  abstract close(): void;
}

/**
 * Client-side discovery through Consul: one blocking-query watch per service on its *passing* instances,
 * so an instance whose health check fails leaves the list as soon as Consul notices (one check interval),
 * and a new one joins without a restart. Calls pick round robin over the current list.
 */
export class ConsulDirectory extends RoundRobinDirectory {
  private readonly watches: ReturnType<Consul['watch']>[] = [];
  private readonly first: Promise<void>;

  constructor(
    consul: Consul,
    services: readonly string[],
    private readonly onError: (service: string, error: unknown) => void = () => undefined,
    private readonly onChange: (service: string, instances: readonly Instance[]) => void = () => undefined,
  ) {
    super();
    this.first = Promise.all(
      services.map(
        (service) =>
          new Promise<void>((resolve) => {
            const watch = consul.watch({
              method: consul.health.service,
              options: { service, passing: 'true', wait: '30s' },
              backoffFactor: 100,
              backoffMax: 2_000,
            });
            watch.on('change', (entries: HealthEntry[]) => {
              const instances = entries.flatMap((entry): Instance[] => {
                const host = entry.Service?.Address || entry.Node?.Address;
                const port = entry.Service?.Port;
                return host && port
                  ? [{ id: entry.Service?.ID ?? `${host}:${port}`, url: `http://${host}:${port}` }]
                  : [];
              });
              instances.sort((a, b) => a.id.localeCompare(b.id));
              this.set(service, instances);
              this.onChange(service, instances);
              resolve();
            });
            watch.on('error', (error: unknown) => {
              this.onError(service, error);
              resolve(); // start without it; the watch keeps trying with backoff
            });
            this.watches.push(watch);
          }),
      ),
    ).then(() => undefined);
  }

  /** Resolves once every service's first answer (or error) arrived. */
  ready(): Promise<void> {
    return this.first;
  }

  close(): void {
    for (const watch of this.watches) watch.end();
  }
}

/** Fixed addresses (no Consul): one instance per service, from configuration. */
export class StaticDirectory extends RoundRobinDirectory {
  constructor(urls: Readonly<Record<string, string>>) {
    super();
    for (const [service, url] of Object.entries(urls)) this.set(service, [{ id: url, url }]);
  }

  close(): void {
    // nothing to stop
  }
}
