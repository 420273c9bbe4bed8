import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { ZipkinExporter } from '@opentelemetry/exporter-zipkin';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';

/** Saga Lab's release, as its services report it (resource `service.version`); package.json's version. */
export const RELEASE = '0.1.0';

/** The tracing fields of every service's configuration (validated with the rest of it, at boot). */
export const tracingConfig = {
  /** Where spans go: the stack's Zipkin (`http://127.0.0.1:9411`); none, and spans are not exported. */
  ZIPKIN_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** An OTLP/HTTP traces endpoint (`http://collector:4318/v1/traces`), in addition to Zipkin. */
  OTLP_TRACES_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Share of new traces recorded; a request that arrives inside a trace follows its caller's decision. */
  TRACE_SAMPLE_RATIO: z.coerce.number().min(0).max(1).default(1),
};
const tracingSchema = z.object(tracingConfig);
export type TracingConfig = z.output<typeof tracingSchema>;

/** Requests nobody wants a trace of: probes and scrapes, a few per second per service. */
const UNTRACED_PATHS = /^\/(health|metrics)(\/|$)/;

let started: { shutdown(): Promise<void> } | undefined;

/**
 * Starts OpenTelemetry for one service process, before anything it instruments is loaded (each service's
 * `src/instrument.ts`, imported first by its main.ts): HTTP server and client (node:http, fetch), pg and
 * ioredis spans; fs, dns and net are deliberately not instrumented (noise at every call). Kafka spans are
 * the messaging layer's own (libs/messaging): their parent is the trace stored with each outbox row,
 * which an instrumentation of the producer cannot know. Spans leave through a batch processor; sampling
 * is parent-based with a ratio for new traces. Returns the shutdown that flushes what is buffered.
 */
export function startTracing(
  service: { readonly name: string; readonly version: string },
  config: TracingConfig,
): { shutdown(): Promise<void> } {
  if (started) return started;
  const spanProcessors: SpanProcessor[] = [];
  if (config.ZIPKIN_URL)
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new ZipkinExporter({ url: new URL('/api/v2/spans', config.ZIPKIN_URL).toString() }),
      }),
    );
  if (config.OTLP_TRACES_URL)
    spanProcessors.push(
      new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.OTLP_TRACES_URL }) }),
    );
  const provider = new TracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: service.name,
      [ATTR_SERVICE_VERSION]: service.version,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.TRACE_SAMPLE_RATIO) }),
    spanProcessors,
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.test(request.url ?? ''),
        // The client side of service calls is traced by the fetch instrumentation.
        ignoreOutgoingRequestHook: () => true,
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  started = {
    async shutdown() {
      unregister();
      await provider.shutdown();
    },
  };
  return started;
}

/**
 * Validates the tracing fields of the environment the service was given and starts tracing; for each
 * service's instrument.ts, which runs before the rest of its configuration is read. A wrong value stops the
 * service with the variable's name, as any other configuration error does.
 */
export function startTracingFrom(
  env: NodeJS.ProcessEnv,
  service: { readonly name: string; readonly version: string },
): { shutdown(): Promise<void> } {
  const parsed = tracingSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`${service.name}: invalid configuration — ${problems}`);
  }
  return startTracing(service, parsed.data);
}

/**
 * For a service's entry point (its instrument.ts): starts tracing from the environment it was given, or
 * stops the process with one sentence when a tracing setting is wrong, like any other configuration error.
 */
export function startServiceTracing(
  env: NodeJS.ProcessEnv,
  service: { readonly name: string; readonly version: string },
): { shutdown(): Promise<void> } {
  try {
    return startTracingFrom(env, service);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
