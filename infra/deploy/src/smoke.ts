import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { docker } from './images';
import { compose, leftovers, memoryByContainer, type ComposeProject, type ComposeSecrets } from './compose';
import type { StackContext } from '@saga-lab/stack';

/** A free loopback port, for publishing a compose service next to whatever else runs here. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function json<T>(url: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface OrderOutcome {
  readonly orderId: string;
  readonly status: string;
  /** Milliseconds from the POST to the terminal status. */
  readonly settledMs: number;
}

/**
 * The smoke test's order, through the gateway as a client would: a token for the demo customer, one unit of
 * a seeded product, then the order read until the saga settles.
 */
export async function placeOneOrder(
  gateway: string,
  secrets: ComposeSecrets,
  timeoutMs = 120_000,
): Promise<OrderOutcome> {
  const token = await json<{ access_token: string }>(`${gateway}/v1/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_type: 'password',
      username: secrets.demoUser,
      password: secrets.demoPassword,
    }),
  });
  if (token.status !== 200) throw new Error(`login answered ${token.status}`);
  const auth = { authorization: `Bearer ${token.body.access_token}` };
  const products = await json<{ items: { productId: string; available: number }[] }>(
    `${gateway}/v1/products?limit=50`,
    { headers: auth },
  );
  if (products.status !== 200) throw new Error(`products answered ${products.status}`);
  const product = products.body.items.find((p) => p.available > 0);
  if (!product) throw new Error('the seeded catalogue has no product in stock');
  const started = Date.now();
  const placed = await json<{ orderId?: string; order?: { orderId: string } }>(`${gateway}/v1/orders`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ lines: [{ productId: product.productId, quantity: 1 }] }),
  });
  const orderId = placed.body.orderId ?? placed.body.order?.orderId;
  if (placed.status !== 202 || !orderId) throw new Error(`POST /v1/orders answered ${placed.status}`);
  for (;;) {
    const detail = await json<{ order: { status: string } }>(`${gateway}/v1/orders/${orderId}`, {
      headers: auth,
    });
    const status = detail.body.order?.status;
    if (detail.status === 200 && status && status !== 'PENDING')
      return { orderId, status, settledMs: Date.now() - started };
    if (Date.now() - started > timeoutMs)
      throw new Error(`order ${orderId} still ${status ?? detail.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

export interface SmokeReport {
  readonly order: OrderOutcome;
  readonly memoryBytes: Record<string, number>;
  readonly upMs: number;
  readonly left: Awaited<ReturnType<typeof leftovers>>;
}

/** How a running container was started: its user, root filesystem and capabilities. */
export interface ContainerFacts {
  readonly name: string;
  readonly service: string;
  readonly user: string;
  readonly readOnly: boolean;
  readonly capDrop: readonly string[];
}

export async function containerFacts(project: string): Promise<ContainerFacts[]> {
  const ids = (await docker(['ps', '--filter', `label=com.docker.compose.project=${project}`, '--quiet']))
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse(await docker(['inspect', ...ids])) as {
    Name: string;
    Config: { User: string; Labels: Record<string, string> };
    HostConfig: { ReadonlyRootfs: boolean; CapDrop: string[] | null };
  }[];
  return inspected.map((c) => ({
    name: c.Name.replace(/^\//, ''),
    service: c.Config.Labels['com.docker.compose.service'] ?? '',
    user: c.Config.User,
    readOnly: c.HostConfig.ReadonlyRootfs,
    capDrop: c.HostConfig.CapDrop ?? [],
  }));
}

/**
 * Up (waiting for every health check), the containers checked by `inspect`, one order, memory, then down
 * with volumes — and what is left of the project.
 */
export async function smoke(
  ctx: StackContext,
  project: ComposeProject,
  secrets: ComposeSecrets,
  inspect: (containers: ContainerFacts[]) => void = () => undefined,
): Promise<SmokeReport> {
  const started = Date.now();
  try {
    await compose(ctx, project, ['up', '--detach', '--wait', '--wait-timeout', '300'], 420_000);
    const upMs = Date.now() - started;
    inspect(await containerFacts(project.name));
    const order = await placeOneOrder(`http://127.0.0.1:${project.ports.gateway}`, secrets);
    const memoryBytes = await memoryByContainer(project.name);
    await down(ctx, project);
    return { order, memoryBytes, upMs, left: await leftovers(project.name) };
  } catch (error) {
    const logs = await compose(ctx, project, ['logs', '--no-color', '--tail', '40']).catch(() => '(no logs)');
    await down(ctx, project).catch(() => undefined);
    throw new Error(`${(error as Error).message}\n--- last compose logs ---\n${logs}`, { cause: error });
  }
}

export const down = (ctx: StackContext, project: ComposeProject): Promise<string> =>
  compose(ctx, project, ['down', '--volumes', '--remove-orphans', '--timeout', '20']);
