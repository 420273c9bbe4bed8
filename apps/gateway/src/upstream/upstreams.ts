import type { ServiceDirectory } from '@saga-lab/discovery';
import { DomainError } from '@saga-lab/observability';
import {
  DeadlineExceeded,
  DependencyPolicy,
  DependencyUnavailable,
  UpstreamFailure,
  type BreakerState,
  type Deadline,
  type DependencyPolicyOptions,
} from '@saga-lab/resilience';
import type { GatewayMetrics } from '../metrics';

export const DEPENDENCIES = ['order', 'inventory', 'payment'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

export interface UpstreamRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly deadline: Deadline;
  readonly correlationId: string;
}

export interface UpstreamResponse<T = unknown> {
  readonly status: number;
  readonly body: T;
  readonly headers: Headers;
}

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3 };

/** Only GET is retried: the gateway cannot know that repeating anything else is harmless. */
const IDEMPOTENT = new Set(['GET']);

/**
 * Calls to the services: an instance from discovery (round robin, so a retry goes to the next one), a
 * timeout cut from the request's deadline, and the dependency's policy (breaker, retries for idempotent
 * calls). A service's own 4xx passes through as it is (in the one error format); its failures become
 * 503 + Retry-After (unreachable, circuit open) or 504 (deadline), never a bare 500.
 */
export class Upstreams {
  private readonly policies: Record<Dependency, DependencyPolicy>;

  constructor(
    private readonly directory: ServiceDirectory,
    options: DependencyPolicyOptions,
    private readonly metrics: GatewayMetrics,
  ) {
    this.policies = Object.fromEntries(
      DEPENDENCIES.map((name) => {
        metrics.breakerState.set({ dependency: name }, 0);
        const policy = new DependencyPolicy(name, options, (state) => {
          metrics.breakerState.set({ dependency: name }, BREAKER_GAUGE[state]);
          metrics.breakerTransitions.inc({ dependency: name, to: state });
        });
        return [name, policy];
      }),
    ) as Record<Dependency, DependencyPolicy>;
  }

  /** Breaker state and healthy instances per dependency (for /health/dependencies). */
  status(): Record<Dependency, { breaker: BreakerState; instances: string[] }> {
    return Object.fromEntries(
      DEPENDENCIES.map((name) => [
        name,
        { breaker: this.policies[name].state, instances: this.directory.instances(name).map((i) => i.id) },
      ]),
    ) as Record<Dependency, { breaker: BreakerState; instances: string[] }>;
  }

  /** A call whose 4xx answers are returned, not thrown (e.g. a 404 a caller turns into a section state). */
  async call<T>(service: Dependency, request: UpstreamRequest): Promise<UpstreamResponse<T>> {
    try {
      return await this.policies[service].call(
        request.deadline,
        IDEMPOTENT.has(request.method),
        (timeoutMs) => this.attempt<T>(service, request, timeoutMs),
      );
    } catch (error) {
      throw asHttpError(service, error);
    }
  }

  /** Like `call`, but a 4xx from the service is thrown as the same error for the client. */
  async expectOk<T>(service: Dependency, request: UpstreamRequest): Promise<UpstreamResponse<T>> {
    const response = await this.call<T>(service, request);
    if (response.status >= 400) throw relayed(response);
    return response;
  }

  private async attempt<T>(
    service: Dependency,
    request: UpstreamRequest,
    timeoutMs: number,
  ): Promise<UpstreamResponse<T>> {
    const instance = this.directory.pick(service);
    if (!instance) {
      this.metrics.upstreamRequests.inc({ service, instance: 'none', outcome: 'failure' });
      throw new UpstreamFailure(service, 'UPSTREAM_UNREACHABLE', `no healthy ${service} instance`);
    }
    const url = new URL(request.path, instance.url);
    for (const [name, value] of Object.entries(request.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { 'x-correlation-id': request.correlationId };
    for (const [name, value] of Object.entries(request.headers ?? {}))
      if (value !== undefined) headers[name] = value;
    if (request.body !== undefined) headers['content-type'] = 'application/json';

    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers,
        ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      this.metrics.upstreamRequests.inc({ service, instance: instance.id, outcome: 'failure' });
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new UpstreamFailure(
        service,
        timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE',
        timedOut ? `${service} did not answer within ${timeoutMs} ms` : `${service} is unreachable`,
        { cause: error },
      );
    }
    const text = await response.text().catch(() => '');
    if (response.status >= 500) {
      this.metrics.upstreamRequests.inc({ service, instance: instance.id, outcome: 'failure' });
      throw new UpstreamFailure(service, 'UPSTREAM_ERROR', `${service} answered ${response.status}`);
    }
    this.metrics.upstreamRequests.inc({
      service,
      instance: instance.id,
      outcome: response.status >= 400 ? 'client_error' : 'ok',
    });
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      throw new UpstreamFailure(
        service,
        'UPSTREAM_ERROR',
        `${service} answered with a body that is not JSON`,
      );
    }
    return { status: response.status, body: body as T, headers: response.headers };
  }
}

/** A service's refusal, relayed to the client with its status, code and details. */
export function relayed(response: UpstreamResponse): DomainError {
  const error = (
    response.body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined
  )?.error;
  return new DomainError(
    response.status,
    typeof error?.code === 'string' ? error.code : 'UPSTREAM_REFUSED',
    typeof error?.message === 'string' ? error.message : `the service answered ${response.status}`,
    error?.details,
  );
}

/** Failures of a dependency, as the client sees them. */
export function asHttpError(service: string, error: unknown): unknown {
  if (error instanceof DependencyUnavailable) {
    return new DomainError(
      503,
      'DEPENDENCY_UNAVAILABLE',
      `the ${service} service is unavailable; retry later`,
      { dependency: service, circuit: 'open' },
      { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
    );
  }
  if (error instanceof DeadlineExceeded) {
    return new DomainError(504, 'DEADLINE_EXCEEDED', `the ${service} service did not answer in time`, {
      dependency: service,
    });
  }
  if (error instanceof UpstreamFailure) {
    return new DomainError(
      503,
      'DEPENDENCY_UNAVAILABLE',
      `the ${service} service is unavailable; retry later`,
      { dependency: service, reason: error.code },
      { 'retry-after': '1' },
    );
  }
  return error;
}
