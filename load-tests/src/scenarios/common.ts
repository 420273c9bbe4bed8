import type { System } from '@saga-lab/stack';
import { call, login } from '../targets';
import type { Mode, PrepareContext, Prepared, RequestTemplate } from '../scenario';

/** Rate and duration for the full run and the smoke run `npm test` does. */
export const size = (
  mode: Mode,
  full: { rate: number; durationS: number },
  smoke = { rate: 20, durationS: 2 },
) => (mode === 'full' ? full : smoke);

/** Limits high enough that nothing in a read scenario is refused (rate limiting has a scenario of its own). */
export const UNLIMITED = {
  GATEWAY_RATE_LIMIT_USER: '100000000:100000000',
  GATEWAY_RATE_LIMIT_IP: '100000000:100000000',
};

/** The run id services restarted by the load tests carry (their settings are accepted only with one). */
export const RUN_ID = 'load-tests';

/** Runs the gateway with these settings (restarting it if they differ), the other services with theirs. */
export async function gatewayWith(
  system: System,
  env: Record<string, string>,
  profileDir?: string,
): Promise<number> {
  await system.ensureUp();
  const profiling: Record<string, string> = profileDir
    ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${profileDir}` }
    : {};
  await system.configureServices({ gateway: { ...env, ...profiling } }, RUN_ID);
  const pid = system.pid('gateway');
  if (pid === undefined) throw new Error('the gateway is not running');
  return pid;
}

/** Back to every service's defaults. */
export const defaults = (system: System) => (): Promise<void> => system.configureServices({}, RUN_ID);

/** A customer's token and the catalogue's product ids, read through the gateway. */
export async function customerSession(
  ctx: PrepareContext,
): Promise<{ gatewayUrl: string; token: string; products: string[] }> {
  const gatewayUrl = ctx.env('GATEWAY_URL');
  const [alice] = ctx.system.customers();
  if (!alice) throw new Error('no demo customer');
  const token = await login(gatewayUrl, alice.username, alice.password);
  const { body } = await call('GET', `${gatewayUrl}/v1/products?limit=20`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const products = ((body as { items?: { productId: string }[] }).items ?? []).map((p) => p.productId);
  if (products.length === 0)
    throw new Error('the catalogue is empty: start the system with npm start (it seeds products)');
  return { gatewayUrl, token, products };
}

/** The cached product read: one of the catalogue's products, with a bearer token. */
export const PRODUCT_READ: RequestTemplate = {
  method: 'GET',
  url: '{{var:GATEWAY_URL}}/v1/products/{{pick:PRODUCTS}}',
  headers: { authorization: 'Bearer {{var:TOKEN}}' },
};

/** Prepared for the product read, with the gateway in the given shape. */
export async function productReads(
  ctx: PrepareContext,
  gatewayEnv: Record<string, string>,
): Promise<Prepared> {
  const gateway = await gatewayWith(ctx.system, gatewayEnv, ctx.profileDir);
  const session = await customerSession(ctx);
  const inventory = ctx.system.pid('inventory');
  return {
    vars: { GATEWAY_URL: session.gatewayUrl, TOKEN: session.token, PRODUCTS: session.products.join(',') },
    processes: { gateway, ...(inventory === undefined ? {} : { inventory }) },
    cleanup: defaults(ctx.system),
  };
}
