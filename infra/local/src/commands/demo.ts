import { setTimeout as sleep } from 'node:timers/promises';
import type { StackContext } from '../context';
import { StackError } from '../errors';

interface OrderView {
  orderId: string;
  status: string;
  statusReason: string | null;
  total: { amountMinor: number; currency: string };
  saga?: { state: string; history: { at: string; event: string; detail?: string }[] };
}

interface Scenario {
  readonly title: string;
  readonly lines: { productId: string; quantity: number }[];
  readonly faults?: Record<string, number>;
}

const SCENARIOS: readonly Scenario[] = [
  {
    title: 'happy path',
    lines: [
      { productId: 'espresso-beans', quantity: 2 },
      { productId: 'filter-papers', quantity: 1 },
    ],
  },
  { title: 'out of stock', lines: [{ productId: 'limited-mug', quantity: 999 }] },
  {
    title: 'payment declined',
    lines: [{ productId: 'hand-grinder', quantity: 1 }],
    faults: { declineRate: 1 },
  },
  {
    title:
      'payment provider times out (the reaper compensates; the authorization the provider made anyway is voided)',
    lines: [{ productId: 'gooseneck-kettle', quantity: 1 }],
    faults: { timeoutRate: 1 },
  },
];

const NO_FAULTS = { declineRate: 0, latencyMs: 0, timeoutRate: 0, lostResponseRate: 0 };
/** Faults stay on until the saga has left the steps they target; then the provider heals. */
const FAULTY_STATES = new Set(['RESERVING_STOCK', 'AUTHORIZING_PAYMENT']);

async function json<T>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, {
    ...init,
    headers: { 'content-type': 'application/json', ...init?.headers },
  });
  return { status: response.status, body: (await response.json()) as T };
}

/**
 * `npm run demo`: places one order per outcome against the running services and prints each order's
 * final state with its saga history — the conversation between the orchestrator and its participants.
 */
export async function runDemo(
  ctx: StackContext,
  print: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
): Promise<number> {
  const order = ctx.config.order.address;
  const payment = ctx.config.payment.address;
  for (const url of [order, payment, ctx.config.inventory.address]) {
    const ready = await fetch(`${url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (!ready) {
      throw new StackError(
        `No ready service answers at ${url}.`,
        'Start everything with `npm start`, then run `npm run demo` again.',
      );
    }
  }
  const setFaults = (faults: Record<string, number>): Promise<unknown> =>
    json(`${payment}/provider/faults`, { method: 'PUT', body: JSON.stringify(faults) });

  let unsettled = 0;
  for (const scenario of SCENARIOS) {
    await setFaults({ ...NO_FAULTS, ...scenario.faults });
    const placed = await json<OrderView>(`${order}/orders`, {
      method: 'POST',
      body: JSON.stringify({ customerId: 'demo-customer', lines: scenario.lines }),
    });
    if (placed.status !== 202) {
      throw new StackError(
        `Placing the "${scenario.title}" order answered ${placed.status}: ${JSON.stringify(placed.body)}`,
        'See `npm run stack -- logs order`.',
      );
    }
    const { orderId } = placed.body;
    const locked = await json<{ error: { code: string } }>(`${order}/orders/${orderId}`, {
      method: 'PATCH',
      body: '{}',
    });
    let view: OrderView = placed.body;
    let healed = !scenario.faults;
    for (let waited = 0; view.status === 'PENDING' && waited < 90_000; waited += 250) {
      await sleep(250);
      view = (await json<OrderView>(`${order}/orders/${orderId}`)).body;
      if (!healed && view.saga && !FAULTY_STATES.has(view.saga.state)) {
        await setFaults(NO_FAULTS);
        healed = true;
      }
    }
    if (view.status === 'PENDING') unsettled += 1;
    const total = `${(view.total.amountMinor / 100).toFixed(2)} ${view.total.currency}`;
    print(`\n■ ${scenario.title}`);
    print(
      `  order ${orderId}: ${view.status}${view.statusReason ? ` (${view.statusReason})` : ''}, total ${total}`,
    );
    print(`  a change while it was PENDING: ${locked.status} ${locked.body.error.code}`);
    const start = new Date(view.saga?.history[0]?.at ?? 0).getTime();
    for (const h of view.saga?.history ?? []) {
      const offset = String(new Date(h.at).getTime() - start).padStart(6);
      print(`    +${offset} ms  ${h.event}${h.detail ? ` — ${h.detail}` : ''}`);
    }
  }
  await setFaults(NO_FAULTS);
  if (unsettled > 0) {
    print(`\n${unsettled} order(s) were still PENDING after 90 s: see npm run stack -- logs order payment`);
    return 1;
  }
  print(
    '\nEvery order ended in exactly one terminal state. Logs: npm run stack -- logs order inventory payment',
  );
  return 0;
}
