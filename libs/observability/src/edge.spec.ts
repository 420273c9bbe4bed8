import { Body, Controller, Get, Module, Param, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { connect } from 'node:net';
import { clientErrorResponse, edgeServerOptions, frameworkError } from './edge';
import { HttpErrorFilter } from './errors';

@Controller('items')
class ItemsController {
  @Get(':id')
  one(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Post()
  create(@Body() body: unknown): unknown {
    return body;
  }
}

/** Sends raw bytes and returns everything the server wrote until it closed the connection. */
function rawExchange(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

const errorShape = (code: string): unknown => ({
  error: { code, message: expect.any(String), correlationId: expect.any(String) },
});

describe('edge errors: what Fastify and Node answer themselves, in the one error format', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    @Module({ controllers: [ItemsController] })
    class EdgeTestModule {}
    app = await NestFactory.create(
      EdgeTestModule,
      new FastifyAdapter({ bodyLimit: 1_024, ...edgeServerOptions() }),
      {
        logger: false,
      },
    );
    app.useGlobalFilters(new HttpErrorFilter());
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });

  afterAll(() => app?.close());

  it('answers an identifier too long to exist with 404, not Fastify’s 414', async () => {
    const response = await fetch(`${url}/items/${'x'.repeat(101)}`, {
      headers: { 'x-correlation-id': 'corr-1' },
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: {
        code: 'NOT_FOUND',
        message: expect.stringContaining('identifier that long'),
        correlationId: 'corr-1',
      },
    });
    expect((await fetch(`${url}/items/${'x'.repeat(100)}`)).status).toBe(200);
  });

  it('answers a badly encoded path with 400', async () => {
    const response = await fetch(`${url}/items/%zz`);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual(errorShape('BAD_REQUEST'));
  });

  it('answers headers over Node’s 16 KB limit with 431 in the format, and ends the connection cleanly', async () => {
    const answer = await rawExchange(
      url,
      `GET /items/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    expect(head).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    expect(head).toMatch(/\r\nConnection: close/);
    expect(JSON.parse(body)).toEqual(errorShape('HEADERS_TOO_LARGE'));
  });

  it('answers malformed HTTP with 400 in the format', async () => {
    const answer = await rawExchange(url, 'THIS IS NOT HTTP\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(answer.split('\r\n\r\n')[1] ?? '')).toEqual(errorShape('BAD_REQUEST'));
  });

  it('lets the client read a 413 for a body over the limit while it is still sending', async () => {
    for (const size of [2_048, 256 * 1024, 4 * 1024 * 1024]) {
      const response = await fetch(`${url}/items`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ filler: 'y'.repeat(size) }),
      });
      expect({ size, status: response.status }).toEqual({ size, status: 413 });
      expect(await response.json()).toEqual(errorShape('PAYLOAD_TOO_LARGE'));
    }
  });

  it('lets a client that streams a large body read the 413 instead of a reset connection', async () => {
    const { hostname, port } = new URL(url);
    const answer = await new Promise<string>((resolve) => {
      const socket = connect(Number(port), hostname);
      let received = '';
      const chunk = Buffer.alloc(64 * 1024, 'z');
      let sent = 0;
      const pump = (): void => {
        while (sent < 2 * 1024 * 1024 && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      socket.on('connect', () => {
        socket.write(
          `POST /items HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 * 1024 * 1024}\r\n\r\n`,
        );
        pump();
      });
      socket.on('data', (data) => (received += data.toString()));
      socket.on('error', (error) => resolve(`${received}\n[${String(error)}]`));
      socket.on('close', () => resolve(received));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual(errorShape('PAYLOAD_TOO_LARGE'));
  });

  it('still serves requests within the limits', async () => {
    const response = await fetch(`${url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 1 }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ a: 1 });
  });
});

describe('edge error mapping', () => {
  it('maps Fastify’s routing errors', () => {
    expect(frameworkError({ code: 'FST_ERR_MAX_PARAM_LENGTH', message: 'm' })[0]).toBe(404);
    expect(frameworkError({ code: 'FST_ERR_BAD_URL', message: 'm' })[0]).toBe(400);
  });

  it('has nobody to answer after a reset', () => {
    expect(clientErrorResponse({ code: 'ECONNRESET' })).toBeUndefined();
    expect(clientErrorResponse({ code: 'ERR_HTTP_REQUEST_TIMEOUT' })).toMatch(/^HTTP\/1\.1 408 /);
  });
});
