import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context across Kafka, on OpenTelemetry's API. A service registers the SDK first (its
 * instrument.ts, libs/observability's startTracing); without one (tests, command-line tools) the API's
 * context and propagation would be no-ops, so a context manager and the W3C propagator are registered
 * here as a fallback — registration is refused, silently, where the SDK's are in place already.
 */
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const tracer = trace.getTracer('saga-lab-messaging');
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The active context as a W3C `traceparent` (what a message staged now carries), if there is a trace. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

/** The context a message's headers carry (its `traceparent`), or no trace at all. */
export function contextOf(headers: Readonly<Record<string, string | undefined>>): Context {
  const traceparent = headers['traceparent'];
  return traceparent && TRACEPARENT.test(traceparent)
    ? propagation.extract(ROOT_CONTEXT, { traceparent })
    : ROOT_CONTEXT;
}

/**
 * Runs `work` inside the trace a `traceparent` names (an HTTP request's, a saga's). Without one, `work`
 * runs in the active context, and the first span it opens starts a trace.
 */
export function withTraceContext<T>(traceparent: string | undefined, work: () => T): T {
  if (!traceparent || !TRACEPARENT.test(traceparent)) return work();
  return context.with(propagation.extract(context.active(), { traceparent }), work);
}

/** Messaging attributes (OpenTelemetry's messaging conventions) plus the saga's own. */
export function messagingAttributes(message: {
  readonly topic: string;
  readonly operation: 'publish' | 'process';
  readonly key?: string | null;
  readonly messageId?: string;
  readonly type?: string;
  readonly sagaId?: string;
  readonly group?: string;
  readonly partition?: number;
  readonly offset?: string;
}): Attributes {
  const attributes: Attributes = {
    'messaging.system': 'kafka',
    'messaging.operation.type': message.operation,
    'messaging.destination.name': message.topic,
  };
  const set = (name: string, value: string | number | null | undefined): void => {
    if (value !== undefined && value !== null) attributes[name] = value;
  };
  set('messaging.message.id', message.messageId);
  set('messaging.kafka.message.key', message.key);
  set('messaging.consumer.group.name', message.group);
  set(
    'messaging.destination.partition.id',
    message.partition === undefined ? undefined : String(message.partition),
  );
  set('messaging.kafka.offset', message.offset === undefined ? undefined : Number(message.offset));
  set('saga.message.type', message.type);
  // Every saga message is keyed by its order: the saga's id is the order's.
  set('saga.id', message.sagaId);
  set('order.id', message.sagaId);
  return attributes;
}

/**
 * A publish span for one outbox row, child of the trace the row was staged in; the row's message then
 * carries this span as its parent (`traceparent`), so the consumer's span hangs under the publish.
 */
export function startPublishSpan(
  staged: Readonly<Record<string, string | undefined>>,
  attributes: Attributes,
): { span: Span; traceparent: string | undefined } {
  const parent = contextOf(staged);
  const span = tracer.startSpan(
    `${String(attributes['messaging.destination.name'])} publish`,
    { kind: SpanKind.PRODUCER, attributes },
    parent,
  );
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(parent, span), carrier);
  return { span, traceparent: carrier['traceparent'] ?? staged['traceparent'] };
}

/** Runs `work` as the active span `name` under `parent`: an error marks the span, and it always ends. */
function inSpan<T>(
  name: string,
  kind: SpanKind,
  attributes: Attributes,
  parent: Context,
  work: () => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { kind, attributes }, parent, async (span) => {
    try {
      return await work();
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Runs a message's handler in a process span, child of the message's publish span. */
export function inProcessSpan<T>(
  headers: Readonly<Record<string, string | undefined>>,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const name = `${String(attributes['messaging.destination.name'])} process`;
  return inSpan(name, SpanKind.CONSUMER, attributes, contextOf(headers), work);
}

/** Runs background work (a deadline the reaper acts on) as a span inside the trace it belongs to. */
export function inSpanOf<T>(
  traceparent: string | undefined,
  name: string,
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  return withTraceContext(traceparent, () =>
    inSpan(name, SpanKind.INTERNAL, attributes, context.active(), work),
  );
}

export function failed(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: error instanceof Error ? error.message : String(error),
  });
}
