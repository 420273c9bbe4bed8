import { Catch, HttpException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AppError, type AppErrorOptions } from '@saga-lab/errors';
import type { IncomingMessage } from 'node:http';
import { afterDraining } from './edge';
import { declaredStatus } from './http-statuses';
import { correlationIdFrom } from './input';

export interface HttpAnswerOptions extends AppErrorOptions {
  /** Response headers the answer implies: Retry-After on a 429 or 503, WWW-Authenticate on a 401… */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Only for an answer relayed from another service: its status is a fact received, not a decision made
   * here. Every other answer takes its status from its code (`declareHttpStatuses`).
   */
  readonly status?: number;
}

/**
 * An error decided at the HTTP edge itself, with what only HTTP can say. Domain code never throws it: it
 * throws an AppError and leaves the status to its service's table.
 */
export class HttpAnswer<C extends string = string> extends AppError<C> {
  readonly headers: Readonly<Record<string, string>>;
  readonly status?: number;

  constructor(code: C, message: string, options: HttpAnswerOptions = {}) {
    super(code, message, options);
    this.headers = options.headers ?? {};
    this.status = options.status;
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; correlationId: string };
}

export interface ErrorResponse {
  status: number;
  headers: Readonly<Record<string, string>>;
  body: ErrorBody;
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

/** The status an AppError is answered with; none means nobody declared its code, a programmer error. */
const statusOf = (error: AppError): number | undefined =>
  (error instanceof HttpAnswer ? error.status : undefined) ?? declaredStatus(error.code);

/**
 * One error format everywhere: `{ "error": { code, message, details?, correlationId } }`. Known errors keep
 * their status and code; anything unexpected — an AppError whose code has no status included — is a 500
 * whose details stay in the log, not in the response.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  constructor(private readonly log: (message: string, error: unknown) => void = () => undefined) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<{ headers: Record<string, string | undefined>; raw?: IncomingMessage }>();
    const reply = http.getResponse<Reply>();
    const correlationId = correlationIdFrom(request.headers['x-correlation-id']);
    const { status, headers, body } = toBody(exception, correlationId);
    if (exception instanceof AppError && statusOf(exception) === undefined)
      this.log(`error code ${exception.code} has no HTTP status (correlationId ${correlationId})`, exception);
    else if (status >= 500 && !(exception instanceof AppError))
      this.log(`unhandled error (correlationId ${correlationId})`, exception);
    for (const [name, value] of Object.entries(headers)) reply.header(name, value);
    const send = (): void => reply.status(status).header('content-type', 'application/json').send(body);
    // A body over the limit is refused before it was read: read the rest first, or the client loses the answer.
    if (status === 413 && request.raw) afterDraining(request.raw, send);
    else send();
  }
}

const answer = (
  status: number,
  error: { code: string; message: string; details?: unknown },
  correlationId: string,
  headers: Readonly<Record<string, string>> = {},
): ErrorResponse => ({
  status,
  headers,
  body: {
    error: {
      code: error.code,
      message: error.message,
      ...(error.details === undefined ? {} : { details: error.details }),
      correlationId,
    },
  },
});

export function toBody(exception: unknown, correlationId: string): ErrorResponse {
  const declared = exception instanceof AppError ? statusOf(exception) : undefined;
  if (exception instanceof AppError && declared !== undefined) {
    return answer(
      declared,
      exception,
      correlationId,
      exception instanceof HttpAnswer ? exception.headers : {},
    );
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
    return answer(status, { code, message, details: given.details }, correlationId);
  }
  // Fastify's own errors (malformed JSON, body too large) carry a statusCode.
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    const code = STATUS_CODES[statusCode] ?? 'BAD_REQUEST';
    return answer(statusCode, { code, message: (exception as Error).message }, correlationId);
  }
  return answer(500, { code: 'INTERNAL', message: 'internal error' }, correlationId);
}
