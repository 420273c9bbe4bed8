import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';

/**
 * W3C trace context carried across Kafka: the handler of a message runs inside that message's context, and
 * every message it stages continues the same trace (same trace id, a new span id for the hop). HTTP
 * requests that start a flow open a context from their `traceparent` header, or a new trace.
 * (Span export to a tracing backend is OpenTelemetry's job; this keeps the ids flowing.)
 */
const storage = new AsyncLocalStorage<{ readonly traceparent: string }>();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function newTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** The same trace, a new span: what a message produced under `parent` carries. */
export function childTraceparent(parent: string): string {
  const match = TRACEPARENT.exec(parent);
  return match ? `00-${match[1]}-${randomBytes(8).toString('hex')}-${match[3]}` : newTraceparent();
}

export function withTraceContext<T>(traceparent: string | undefined, work: () => T): T {
  const valid = traceparent && TRACEPARENT.test(traceparent) ? traceparent : newTraceparent();
  return storage.run({ traceparent: valid }, work);
}

export const currentTraceparent = (): string | undefined => storage.getStore()?.traceparent;
