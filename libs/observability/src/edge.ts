import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import type { ErrorBody } from './errors';
import { correlationIdFrom } from './input';

/** The longest path segment a route parameter may have; no identifier in the system comes near it. */
export const MAX_PARAM_LENGTH = 100;

const errorBody = (code: string, message: string, correlationId: string): ErrorBody => ({
  error: { code, message, correlationId },
});

/** What Fastify answers itself before any route (and so any NestJS filter) runs, as status, code, message. */
export function frameworkError(error: { code?: string; message: string }): [number, string, string] {
  switch (error.code) {
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // An id that long cannot exist: 404, as for any other unknown id (not 414, which is about the URL).
      return [
        404,
        'NOT_FOUND',
        `No resource has an identifier that long (over ${MAX_PARAM_LENGTH} characters in one path segment).`,
      ];
    case 'FST_ERR_BAD_URL':
      return [400, 'BAD_REQUEST', 'The URL is not valid: a path segment is not correctly percent-encoded.'];
    default:
      return [400, 'BAD_REQUEST', error.message];
  }
}

/**
 * Node's HTTP parser rejects some requests before Fastify sees them (headers over 16 KB, malformed
 * HTTP, a request that took too long): there is no request or reply object, only the socket. The answer
 * is written to it in the one error format and the socket is ended, not reset, so the client can read it.
 */
export function clientErrorResponse(error: { code?: string }): string | undefined {
  if (error.code === 'ECONNRESET') return undefined; // nobody left to answer
  const [status, code, message] =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'HEADERS_TOO_LARGE', 'The request headers are larger than the server accepts (16 KB in all).']
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'REQUEST_TIMEOUT', 'The request was not received in time.']
        : [400, 'BAD_REQUEST', 'The request is not valid HTTP.'];
  const body = JSON.stringify(errorBody(code, message, randomUUID()));
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Fastify server options that every service (the gateway included) boots with, so that even the answers
 * given outside NestJS — an overlong path segment, a bad URL, headers over Node's limit — use the one error
 * format. Pass them to `new FastifyAdapter({...})`.
 */
export function edgeServerOptions(): Pick<
  FastifyServerOptions,
  'routerOptions' | 'frameworkErrors' | 'clientErrorHandler'
> {
  return {
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors(error, request, reply) {
      const [status, code, message] = frameworkError(error);
      const body = JSON.stringify(
        errorBody(code, message, correlationIdFrom(request.headers['x-correlation-id'])),
      );
      // Written to Node's response: Fastify's typed reply is generic over route schemas this answer has none of.
      const raw = reply.raw as ServerResponse;
      raw.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      raw.end(body);
    },
    clientErrorHandler(error: Error & { code?: string }, socket: Socket) {
      const response = clientErrorResponse(error);
      if (!response || socket.destroyed) return;
      if (socket.writable) socket.end(response);
      else socket.destroy();
    },
  };
}

/**
 * 413: the client is usually still sending when the answer is ready. Closing at once resets the connection
 * and most clients then lose the answer, so the rest of the body is read and thrown away first — up to
 * `maxDrainBytes` or `maxDrainMs`, after which the connection is closed anyway (a hostile upload).
 */
export function afterDraining(
  request: IncomingMessage,
  respond: () => void,
  { maxDrainBytes = 8 * 1024 * 1024, maxDrainMs = 5_000 } = {},
): void {
  if (request.complete || request.readableEnded) {
    respond();
    return;
  }
  let drained = 0;
  let done = false;
  const finish = (): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    request.off('data', onData);
    respond();
  };
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > maxDrainBytes) finish();
  };
  const timer = setTimeout(finish, maxDrainMs);
  request.on('data', onData);
  request.once('end', finish);
  request.once('error', finish);
  request.resume();
}
