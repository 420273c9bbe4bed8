import { requireEnv, seriesValue, startServiceProcess, type ServiceProcess } from '@saga-lab/testing';
import { request as httpRequest } from 'node:http';
import { SignJWT } from 'jose';

export const JWT_SECRET = 'e2e-secret-0123456789abcdef0123456789abcdef';
export const USERS = [
  { username: 'alice', password: 'alice-e2e-password', role: 'customer', customerId: 'c-e2e-alice' },
  { username: 'bob', password: 'bob-e2e-password', role: 'customer', customerId: 'c-e2e-bob' },
  { username: 'root', password: 'root-e2e-password', role: 'admin' },
] as const;
export type Username = (typeof USERS)[number]['username'];

export const infraEnv = (): NodeJS.ProcessEnv => ({
  KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
  CONSUL_HTTP_ADDR: requireEnv('CONSUL_HTTP_ADDR'),
  // Every trace recorded and exported to the test stack's Zipkin (the tracing test reads them back).
  ZIPKIN_URL: requireEnv('ZIPKIN_URL'),
  TRACE_SAMPLE_RATIO: '1',
  // Debug: each handled message is a log line (in its trace), which the tracing test looks for.
  LOG_LEVEL: 'debug',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
});

export const startInventory = (): Promise<ServiceProcess> =>
  startServiceProcess('inventory', 'apps/inventory/src/main.ts', {
    ...infraEnv(),
    INVENTORY_DATABASE_URL: requireEnv('INVENTORY_DATABASE_URL'),
    INVENTORY_PORT: '0',
  });
export const startPayment = (): Promise<ServiceProcess> =>
  startServiceProcess('payment', 'apps/payment/src/main.ts', {
    ...infraEnv(),
    PAYMENT_DATABASE_URL: requireEnv('PAYMENT_DATABASE_URL'),
    PAYMENT_PORT: '0',
  });
export const startOrder = (inventoryUrl: string): Promise<ServiceProcess> =>
  startServiceProcess('order', 'apps/order/src/main.ts', {
    ...infraEnv(),
    ORDER_DATABASE_URL: requireEnv('ORDER_DATABASE_URL'),
    ORDER_PORT: '0',
    INVENTORY_URL: inventoryUrl,
  });

/** A gateway process discovering the services through Consul; `env` overrides its defaults. */
export const startGateway = (env: NodeJS.ProcessEnv = {}): Promise<ServiceProcess> =>
  startServiceProcess('gateway', 'apps/gateway/src/main.ts', {
    ...infraEnv(),
    REDIS_URL: requireEnv('REDIS_URL'),
    GATEWAY_PORT: '0',
    GATEWAY_JWT_SECRET: JWT_SECRET,
    GATEWAY_USERS: JSON.stringify(USERS),
    GATEWAY_CORS_ORIGINS: 'https://shop.example',
    GATEWAY_RATE_LIMIT_USER: '5000:5000',
    GATEWAY_RATE_LIMIT_IP: '10000:10000',
    GATEWAY_RATE_LIMIT_AUTH: '1000:1000',
    GATEWAY_BREAKER_THRESHOLD: '3',
    GATEWAY_BREAKER_HALF_OPEN_MS: '2000',
    GATEWAY_PRODUCT_CACHE_TTL_MS: '60000',
    ...env,
  });

export interface Answer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly text: string;
}

/** One HTTP call; the body is parsed when it is JSON. */
export async function http<T = unknown>(
  url: string,
  init: { method?: string; token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token) headers['authorization'] = `Bearer ${init.token}`;
  if (init.body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(init.body === undefined
      ? {}
      : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export interface Tokens {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_type: string;
}

export async function login(gatewayUrl: string, username: Username): Promise<Tokens> {
  const user = USERS.find((u) => u.username === username);
  const answer = await http<Tokens>(`${gatewayUrl}/v1/auth/token`, {
    method: 'POST',
    body: { grant_type: 'password', username, password: user?.password },
  });
  if (answer.status !== 200) throw new Error(`login ${username}: ${answer.status} ${answer.text}`);
  return answer.body;
}

/** A token the gateway did not issue the normal way (expired, other audience…), signed with its secret. */
export function forgeToken(claims: {
  aud?: string;
  iss?: string;
  exp?: number;
  sub?: string;
  role?: string;
}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ role: claims.role ?? 'customer', cid: 'c-e2e-alice' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(claims.sub ?? 'alice')
    .setIssuer(claims.iss ?? 'saga-lab-gateway')
    .setAudience(claims.aud ?? 'saga-lab-api')
    .setIssuedAt(now - 600)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(new TextEncoder().encode(JWT_SECRET));
}

/** Sum of a Prometheus counter's samples whose labels include `labels`. */
export async function metric(
  gatewayUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return seriesValue(await (await fetch(`${gatewayUrl}/metrics`)).text(), name, labels) ?? 0;
}

/**
 * One request through node:http, for what fetch will not send or hides: oversized headers, and a body
 * streamed in 64 KB chunks while the server may already have answered (the answer is read either way).
 */
export function rawHttp(
  base: string,
  init: { method?: string; path: string; headers?: Record<string, string>; bodyBytes?: number },
): Promise<{ status: number; body: string }> {
  const url = new URL(init.path, base);
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, {
      method: init.method ?? 'GET',
      headers: { ...init.headers, ...(init.bodyBytes ? { 'content-length': String(init.bodyBytes) } : {}) },
    });
    request.once('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.once('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.once('error', reject);
    });
    request.once('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let left = init.bodyBytes ?? 0;
    const pump = (): void => {
      while (left > 0 && !request.destroyed) {
        left -= chunk.length;
        if (!request.write(chunk)) return void request.once('drain', pump);
      }
      request.end();
    };
    pump();
  });
}
