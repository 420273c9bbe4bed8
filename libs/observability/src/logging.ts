import type { LoggerService } from '@nestjs/common';
import { trace } from '@opentelemetry/api';
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { z } from 'zod';

/** The logging field of every service's configuration. */
export const loggingConfig = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
};

/**
 * What is never written to a log, wherever it appears: credentials and tokens in headers and bodies, and
 * card data. Configured here once, for every service; values are replaced, keys kept (so a reader sees that
 * something was there).
 */
export const REDACTED_PATHS = [
  'authorization',
  'cookie',
  'password',
  'access_token',
  'refresh_token',
  'token',
  'secret',
  'card',
  'cardNumber',
  'cvc',
  '*.authorization',
  '*.cookie',
  '*.password',
  '*.access_token',
  '*.refresh_token',
  '*.token',
  '*.secret',
  '*.card',
  '*.cardNumber',
  '*.cvc',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'body.password',
  'body.refresh_token',
];

/** Ids that belong to the work in progress (the request's or the message's correlation id). */
const workContext = new AsyncLocalStorage<{ readonly correlationId: string }>();

/** Runs `work` with its correlation id on every log line written inside it. */
export const withCorrelationId = <T>(correlationId: string, work: () => T): T =>
  workContext.run({ correlationId }, work);

/**
 * The service's logger: pino, JSON lines, each carrying `service` and `version`, the active span's
 * `traceId` and `spanId` (so the lines of one order are found by its trace id, in every service), and the
 * current `correlationId`; secrets redacted (REDACTED_PATHS).
 */
export function createLogger(
  service: { readonly name: string; readonly version: string },
  level: LoggerOptions['level'] = 'info',
  destination?: DestinationStream,
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: service.name, version: service.version },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin() {
      const span = trace.getActiveSpan()?.spanContext();
      const correlationId = workContext.getStore()?.correlationId;
      return {
        ...(span ? { traceId: span.traceId, spanId: span.spanId } : {}),
        ...(correlationId ? { correlationId } : {}),
      };
    },
  };
  // Asynchronous writes to stdout: lines logged while a write is under way go out together in the next
  // one, instead of one write(2) per line on the event loop (the biggest single cost of a cached read at
  // thousands of requests per second, measured: docs/measurements.md). Pino flushes what is pending when
  // the process exits; a SIGKILL can lose the last lines.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false }));
}

/** NestJS's logger interface over pino, so Nest's own messages are JSON lines with the same fields. */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes the context (a class name) last, and for errors a stack before it. */
  private write(level: pino.Level, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const fields = { ...(context ? { context } : {}) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...message });
    else this.logger[level](fields, String(message));
  }
}
