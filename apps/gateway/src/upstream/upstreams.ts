import {
  ServiceClient,
  type ServiceDirectory,
  type ServiceRequest,
  type ServiceResponse,
} from '@saga-lab/discovery';
import { HttpAnswer } from '@saga-lab/observability';
import {
  DeadlineExceeded,
  DependencyPolicy,
  DependencyUnavailable,
  UpstreamFailure,
  type BreakerState,
  type DependencyPolicyOptions,
} from '@saga-lab/resilience';
import type { z } from 'zod';
import { GatewayError } from '../errors';
import type { GatewayMetrics } from '../metrics';

export const DEPENDENCIES = ['order', 'inventory', 'payment'] as const;
export type Dependency = (typeof DEPENDENCIES)[number];

export type UpstreamRequest = ServiceRequest;
export type UpstreamResponse<T> = ServiceResponse<T>;

const BREAKER_GAUGE: Record<BreakerState, number> = { closed: 0, open: 1, 'half-open': 2, isolated: 3 };

/**
 * The gateway's calls to the services: one `ServiceClient` per dependency (discovery, deadline, breaker,
 * retries for idempotent calls, response checked against the schema the caller expects), with the
 * gateway's metrics. A service's own 4xx passes through as it is (in the one error format); its failures
 * become 503 + Retry-After (unreachable, circuit open, broken contract) or 504 (deadline), never a bare 500.
 */
export class Upstreams {
  private readonly clients: Record<Dependency, ServiceClient>;

  constructor(directory: ServiceDirectory, options: DependencyPolicyOptions, metrics: GatewayMetrics) {
    this.clients = Object.fromEntries(
      DEPENDENCIES.map((name) => {
        metrics.breakerState.set({ dependency: name }, 0);
        const policy = new DependencyPolicy(name, options, (state) => {
          metrics.breakerState.set({ dependency: name }, BREAKER_GAUGE[state]);
          metrics.breakerTransitions.inc({ dependency: name, to: state });
        });
        const client = new ServiceClient(name, directory, policy, (outcome, instance) =>
          metrics.upstreamRequests.inc({ service: name, instance, outcome }),
        );
        return [name, client];
      }),
    ) as Record<Dependency, ServiceClient>;
  }

  /** Breaker state and healthy instances per dependency (for /health/dependencies). */
  status(): Record<Dependency, { breaker: BreakerState; instances: string[] }> {
    return Object.fromEntries(
      DEPENDENCIES.map((name) => [
        name,
        { breaker: this.clients[name].policy.state, instances: [...this.clients[name].instances()] },
      ]),
    ) as Record<Dependency, { breaker: BreakerState; instances: string[] }>;
  }

  /** A call whose 4xx answers are returned, not thrown (e.g. a 404 a caller turns into a section state). */
  async call<S extends z.ZodType>(
    service: Dependency,
    request: UpstreamRequest,
    schema: S,
  ): Promise<UpstreamResponse<z.output<S>>> {
    try {
      return await this.clients[service].call(request, schema);
    } catch (error) {
      throw asHttpError(service, error);
    }
  }

  /** Like `call`, but a 4xx from the service is thrown as the same error for the client. */
  async expectOk<S extends z.ZodType>(
    service: Dependency,
    request: UpstreamRequest,
    schema: S,
  ): Promise<{ readonly status: number; readonly body: z.output<S>; readonly headers: Headers }> {
    const response = await this.call(service, request, schema);
    if (!response.ok) throw relayed(response);
    return response;
  }
}

/** A service's refusal, relayed to the client with its status, code and details. */
export function relayed(response: {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Headers;
}): HttpAnswer {
  const retryAfter = response.headers?.get('retry-after');
  const error = (
    response.body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined
  )?.error;
  return new HttpAnswer(
    typeof error?.code === 'string' ? error.code : 'UPSTREAM_REFUSED',
    typeof error?.message === 'string' ? error.message : `the service answered ${response.status}`,
    {
      status: response.status,
      details: error?.details,
      ...(retryAfter ? { headers: { 'retry-after': retryAfter } } : {}),
    },
  );
}

/** Failures of a dependency, as the client sees them. */
export function asHttpError(service: string, error: unknown): unknown {
  if (error instanceof DependencyUnavailable) {
    return new GatewayError('DEPENDENCY_UNAVAILABLE', `the ${service} service is unavailable; retry later`, {
      details: { dependency: service, circuit: 'open' },
      headers: { 'retry-after': String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))) },
      cause: error,
    });
  }
  if (error instanceof DeadlineExceeded) {
    return new GatewayError('DEADLINE_EXCEEDED', `the ${service} service did not answer in time`, {
      details: { dependency: service },
      cause: error,
    });
  }
  if (error instanceof UpstreamFailure) {
    return new GatewayError('DEPENDENCY_UNAVAILABLE', `the ${service} service is unavailable; retry later`, {
      details: { dependency: service, reason: error.code },
      headers: { 'retry-after': '1' },
      cause: error,
    });
  }
  return error;
}
