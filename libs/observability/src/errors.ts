import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { afterDraining } from './edge';
import { correlationIdFrom } from './input';

/** A domain error that knows its HTTP status and machine code (e.g. 409 ORDER_LOCKED). */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** Response headers the error implies (Retry-After on a 429 or 503, RateLimit-* …). */
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; correlationId: string };
}

interface Reply {
  status(code: number): Reply;
  header(name: string, value: string): Reply;
  send(body: unknown): void;
}

const STATUS_CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'UNPROCESSABLE',
  429: 'RATE_LIMITED',
  503: 'UNAVAILABLE',
};

/**
 * One error format everywhere: `{ "error": { code, message, details?, correlationId } }`. Known errors keep
 * their status and code; anything unexpected is a 500 whose details stay in the log, not in the response.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly log: (message: string, error: unknown) => void = () => undefined) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | undefined>; raw?: IncomingMessage }>();
    const reply = http.getResponse<Reply>();
    const correlationId = correlationIdFrom(request.headers['x-correlation-id']);
    const { status, body } = toBody(exception, correlationId);
    if (status >= 500 && !(exception instanceof DomainError))
      this.log(`unhandled error (correlationId ${correlationId})`, exception);
    if (exception instanceof DomainError)
      for (const [name, value] of Object.entries(exception.headers ?? {})) reply.header(name, value);
    const send = (): void => reply.status(status).header('content-type', 'application/json').send(body);
    // A body over the limit is refused before it was read: read the rest first, or the client loses the answer.
    if (status === 413 && request.raw) afterDraining(request.raw, send);
    else send();
  }
}

export function toBody(exception: unknown, correlationId: string): { status: number; body: ErrorBody } {
  if (exception instanceof DomainError) {
    return {
      status: exception.status,
      body: {
        error: {
          code: exception.code,
          message: exception.message,
          ...(exception.details === undefined ? {} : { details: exception.details }),
          correlationId,
        },
      },
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const given =
      typeof response === 'object' && response !== null
        ? (response as { code?: unknown; message?: unknown; details?: unknown })
        : {};
    const code =
      typeof given.code === 'string'
        ? given.code
        : (STATUS_CODES[status] ?? (status >= 500 ? 'INTERNAL' : 'ERROR'));
    const message = typeof given.message === 'string' ? given.message : exception.message;
    return {
      status,
      body: {
        error: {
          code,
          message,
          ...(given.details === undefined ? {} : { details: given.details }),
          correlationId,
        },
      },
    };
  }
  // Fastify's own errors (malformed JSON, body too large) carry a statusCode.
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return {
      status: statusCode,
      body: {
        error: {
          code: STATUS_CODES[statusCode] ?? 'BAD_REQUEST',
          message: (exception as Error).message,
          correlationId,
        },
      },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal error', correlationId } } };
}
