import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { TracerProvider } from '@opentelemetry/sdk-trace';
import { Writable } from 'node:stream';
import { PinoNestLogger, createLogger, withCorrelationId } from './logging';

/** A logger writing into an array of parsed JSON lines. */
function captured(level = 'debug'): {
  lines: Record<string, unknown>[];
  logger: ReturnType<typeof createLogger>;
} {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ name: 'svc', version: '9.9.9' }, level, sink) };
}

describe('service logs', () => {
  const provider = new TracerProvider();
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });
  afterAll(() => trace.disable());

  it('never writes a credential, a token or card data, wherever it sits', () => {
    const { lines, logger } = captured();
    logger.info(
      {
        headers: { authorization: 'Bearer eyJhbGciOi.secret.sig', cookie: 'session=abc' },
        body: { username: 'alice', password: 'hunter2', refresh_token: 'rt-123' },
        access_token: 'at-456',
        card: { number: '4242424242424242' },
      },
      'auth flow',
    );
    const text = JSON.stringify(lines);
    for (const secret of ['eyJhbGciOi', 'session=abc', 'hunter2', 'rt-123', 'at-456', '4242424242424242'])
      expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      headers: { authorization: '[redacted]' },
      body: { username: 'alice', password: '[redacted]' },
    });
  });

  it('carries service, version, level name, the active span and the correlation id', () => {
    const { lines, logger } = captured();
    const span = provider.getTracer('test').startSpan('work');
    context.with(trace.setSpan(context.active(), span), () =>
      withCorrelationId('corr-7', () => logger.info('inside')),
    );
    span.end();
    logger.info('outside');
    expect(lines[0]).toMatchObject({
      level: 'info',
      service: 'svc',
      version: '9.9.9',
      msg: 'inside',
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
      correlationId: 'corr-7',
    });
    expect(lines[1]).not.toHaveProperty('traceId');
    expect(lines[1]).not.toHaveProperty('correlationId');
  });

  it('gives NestJS’s messages the same shape, with their context and level', () => {
    const { lines, logger } = captured('info');
    const nest = new PinoNestLogger(logger);
    nest.log('listening', 'NestApplication');
    nest.warn({ msg: 'slow', ms: 12 });
    nest.error(new Error('boom'), 'Handler');
    nest.debug('hidden below info');
    expect(lines.map((l) => [l['level'], l['msg'], l['context']])).toEqual([
      ['info', 'listening', 'NestApplication'],
      ['warn', 'slow', undefined],
      ['error', 'boom', 'Handler'],
    ]);
  });
});
