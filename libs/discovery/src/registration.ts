import Consul from 'consul';

export interface ServiceRegistration {
  /** Logical name clients look up (`inventory`). */
  readonly name: string;
  /** Unique per instance (`inventory-127.0.0.1-3002`). */
  readonly id: string;
  readonly address: string;
  readonly port: number;
  /** Consul calls it; only passing instances are handed to clients. */
  readonly healthUrl: string;
  readonly checkInterval?: string;
  readonly tags?: readonly string[];
}

/** Parses CONSUL_HTTP_ADDR (`host:port` or `http://host:port`). */
export function consulClient(address: string): Consul {
  const url = new URL(/^https?:\/\//.test(address) ? address : `http://${address}`);
  return new Consul({
    host: url.hostname,
    port: Number(url.port || 8500),
    secure: url.protocol === 'https:',
  });
}

/**
 * Service discovery (client side): an instance registers itself with an HTTP health check at start-up
 * and deregisters on shutdown. If it dies without deregistering, the failing check takes it out of the
 * passing set within an interval, and Consul removes it after a minute critical.
 */
export class ConsulRegistration {
  private registered = false;

  constructor(
    private readonly consul: Consul,
    readonly service: ServiceRegistration,
  ) {}

  async register(): Promise<void> {
    const { name, id, address, port, healthUrl, checkInterval = '2s', tags = [] } = this.service;
    await this.consul.agent.service.register({
      name,
      id,
      address,
      port,
      tags: [...tags],
      check: {
        name: `${name} ready`,
        http: healthUrl,
        interval: checkInterval,
        timeout: '1s',
        deregistercriticalserviceafter: '1m',
      },
    });
    this.registered = true;
  }

  async deregister(): Promise<void> {
    if (!this.registered) return;
    await this.consul.agent.service.deregister(this.service.id);
    this.registered = false;
  }
}
