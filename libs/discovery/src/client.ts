import { DependencyPolicy, UpstreamFailure, type Deadline } from '@saga-lab/resilience';
import type { z } from 'zod';
import type { ServiceDirectory } from './directory';

export interface ServiceRequest {
  readonly method: 'GET' | 'POST' | 'PATCH';
  readonly path: string;
  readonly query?: Readonly<Record<string, string | undefined>>;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string | undefined>>;
  readonly deadline: Deadline;
  readonly correlationId: string;
}

/** A 2xx answer, its body validated by the caller's schema; or the service's refusal (4xx) as it came. */
export type ServiceResponse<T> =
  | { readonly ok: true; readonly status: number; readonly body: T; readonly headers: Headers }
  | { readonly ok: false; readonly status: number; readonly body: unknown; readonly headers: Headers };

export type CallOutcome = 'ok' | 'client_error' | 'failure';

/** Only GET is retried: a caller cannot know that repeating anything else is harmless. */
const IDEMPOTENT = new Set(['GET']);

/**
 * Calls one service the way every caller in the system does: an instance from discovery (round robin, so
 * a retry goes to the next one), a timeout cut from the request's deadline, the dependency's policy
 * (breaker, retries for idempotent calls), and a response that is checked against the schema the caller
 * expects instead of cast to it. A 4xx is the service's answer and is returned; anything else that goes
 * wrong — no instance, timeout, 5xx, a body that breaks the contract — is an `UpstreamFailure` (or the
 * policy's DependencyUnavailable / DeadlineExceeded), which counts against the breaker.
 */
export class ServiceClient {
  constructor(
    readonly service: string,
    private readonly directory: ServiceDirectory,
    readonly policy: DependencyPolicy,
    /** Per attempt, for metrics: what happened and on which instance. */
    private readonly observe: (outcome: CallOutcome, instance: string) => void = () => undefined,
  ) {}

  instances(): readonly string[] {
    return this.directory.instances(this.service).map((i) => i.id);
  }

  call<S extends z.ZodType>(request: ServiceRequest, schema: S): Promise<ServiceResponse<z.output<S>>> {
    return this.policy.call(request.deadline, IDEMPOTENT.has(request.method), (timeoutMs) =>
      this.attempt(request, schema, timeoutMs),
    );
  }

  private async attempt<S extends z.ZodType>(
    request: ServiceRequest,
    schema: S,
    timeoutMs: number,
  ): Promise<ServiceResponse<z.output<S>>> {
    const { service } = this;
    const instance = this.directory.pick(service);
    if (!instance) {
      this.observe('failure', 'none');
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
      this.observe('failure', instance.id);
      const timedOut = (error as Error).name === 'TimeoutError';
      throw new UpstreamFailure(
        service,
        timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE',
        timedOut ? `${service} did not answer within ${timeoutMs} ms` : `${service} is unreachable`,
        { cause: error },
      );
    }
    const text = await response.text().catch(() => '');
    if (response.status === 503 && isShedding(text)) {
      // A healthy instance refusing work it cannot finish in time (admission control): an answer to
      // relay with its Retry-After, not a failure — no retry, and nothing against the breaker.
      this.observe('client_error', instance.id);
      return {
        ok: false,
        status: response.status,
        body: JSON.parse(text) as unknown,
        headers: response.headers,
      };
    }
    if (response.status >= 500) {
      this.observe('failure', instance.id);
      throw new UpstreamFailure(service, 'UPSTREAM_ERROR', `${service} answered ${response.status}`);
    }
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      this.observe('failure', instance.id);
      throw new UpstreamFailure(
        service,
        'UPSTREAM_ERROR',
        `${service} answered with a body that is not JSON`,
      );
    }
    if (response.status >= 400) {
      this.observe('client_error', instance.id);
      return { ok: false, status: response.status, body, headers: response.headers };
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      this.observe('failure', instance.id);
      throw new UpstreamFailure(
        service,
        'UPSTREAM_CONTRACT',
        `${service} answered ${request.method} ${request.path} with a body its contract does not allow`,
        { cause: parsed.error },
      );
    }
    this.observe('ok', instance.id);
    return { ok: true, status: response.status, body: parsed.data, headers: response.headers };
  }
}

/** A 503 whose body says the service is shedding load (error code OVERLOADED, the one error format). */
function isShedding(text: string): boolean {
  try {
    return (JSON.parse(text) as { error?: { code?: unknown } }).error?.code === 'OVERLOADED';
  } catch {
    return false;
  }
}
