import { context, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import {
  currentTraceparent,
  inProcessSpan,
  messagingAttributes,
  startPublishSpan,
  withTraceContext,
} from './trace-context';

const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const traceIdOf = (traceparent: string | undefined): string | undefined => traceparent?.split('-')[1];

describe('trace context across Kafka', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  beforeAll(() => trace.setGlobalTracerProvider(provider));
  afterAll(async () => {
    await provider.shutdown();
    trace.disable();
  });
  beforeEach(() => exporter.reset());

  it('has no trace outside one, and the caller’s inside withTraceContext', () => {
    expect(currentTraceparent()).toBeUndefined();
    expect(withTraceContext(parent, currentTraceparent)).toBe(parent);
    expect(withTraceContext('garbage', currentTraceparent)).toBeUndefined();
  });

  it('publishes a staged row as a child of the trace it was staged in, and processes it as a child of the publish', async () => {
    const attributes = messagingAttributes({
      topic: 'inventory.commands.v1',
      operation: 'publish',
      key: 'o-1',
      messageId: 'm-1',
      sagaId: 'o-1',
    });
    const { span, traceparent } = startPublishSpan({ traceparent: parent }, attributes);
    span.end();
    expect(traceIdOf(traceparent)).toBe(traceIdOf(parent));
    expect(traceparent).not.toBe(parent); // a new span: the publish

    const staged = await inProcessSpan(
      { traceparent },
      messagingAttributes({ topic: 'inventory.commands.v1', operation: 'process', group: 'g' }),
      async () => currentTraceparent(),
    );
    expect(traceIdOf(staged)).toBe(traceIdOf(parent));

    const [publish, process] = exporter.getFinishedSpans();
    expect(publish?.name).toBe('inventory.commands.v1 publish');
    expect(publish?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(publish?.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': 'inventory.commands.v1',
      'saga.id': 'o-1',
      'order.id': 'o-1',
    });
    expect(process?.name).toBe('inventory.commands.v1 process');
    expect(process?.parentSpanContext?.spanId).toBe(publish?.spanContext().spanId);
    // What the handler staged continues under its process span.
    expect(staged?.split('-')[2]).toBe(process?.spanContext().spanId);
  });

  it('marks a failed handler’s span as an error and rethrows', async () => {
    await expect(
      inProcessSpan(
        { traceparent: parent },
        messagingAttributes({ topic: 't', operation: 'process' }),
        async () => {
          throw new Error('boom');
        },
      ),
    ).rejects.toThrow('boom');
    expect(exporter.getFinishedSpans()[0]?.status).toMatchObject({ code: 2, message: 'boom' });
    expect(context.active()).toBe(context.active()); // nothing left active
  });
});
