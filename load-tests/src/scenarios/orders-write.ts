import type { PrepareContext, Prepared, Scenario, Variant } from '../scenario';
import {
  PLACE_ORDER,
  UNLIMITED,
  customerSession,
  defaults,
  RUN_ID,
  sagaOutcome,
  stockLoadProduct,
} from './common';

/**
 * The highest rate measured here at which every saga confirms with p99 completion under 1 s (see
 * load-tests/RESULTS.md); overload is twice that.
 */
export const SUSTAINABLE_RATE = 30;

interface WriteOptions {
  /** Gateway / order service settings of this variant (e.g. admission control off). */
  readonly orderEnv?: Record<string, string>;
  /** Share of traces recorded in every service (default 1 %). */
  readonly traceSampleRatio?: string;
  /** Fail unless p99 completion < 1 s and every order confirmed. */
  readonly mustSustain?: boolean;
  /** Fail if any accepted order was cancelled by a step deadline (the system was busy). */
  readonly noBusyCancellations?: boolean;
}

async function prepare(ctx: PrepareContext, options: WriteOptions): Promise<Prepared> {
  await ctx.system.ensureUp();
  // Traces sampled at 1 % in every service, as at this volume in production (100 %, the default, costs
  // a large share of each saga's CPU: measured in load-tests/RESULTS.md).
  const sampled = { TRACE_SAMPLE_RATIO: options.traceSampleRatio ?? '0.01' };
  await ctx.system.configureServices(
    {
      gateway: { ...UNLIMITED, ...sampled, GATEWAY_ACCESS_LOG: 'errors' },
      order: { ...sampled, ...options.orderEnv },
      inventory: sampled,
      payment: sampled,
    },
    RUN_ID,
  );
  const gateway = ctx.system.pid('gateway');
  if (gateway === undefined) throw new Error('the gateway is not running');
  await stockLoadProduct(ctx.system);
  const session = await customerSession(ctx);
  const processes: Record<string, number> = { gateway };
  for (const name of ['order', 'inventory', 'payment', 'kafka', 'postgres'] as const) {
    const pid = ctx.system.pid(name);
    if (pid !== undefined) processes[name] = pid;
  }
  return {
    vars: { GATEWAY_URL: session.gatewayUrl, TOKEN: session.token },
    processes,
    findings: async (attacks, measuredFrom) => {
      const outcome = await sagaOutcome(ctx.system, session.customerId, measuredFrom);
      const accepted = attacks[0]?.statuses['202'] ?? 0;
      const shed = (attacks[0]?.statuses['429'] ?? 0) + (attacks[0]?.statuses['503'] ?? 0);
      const failures: string[] = [];
      if (outcome.pending > 0) failures.push(`${outcome.pending} orders still pending 90 s after the attack`);
      if (options.mustSustain && outcome.completion.p99Ms >= 1_000)
        failures.push(`saga completion p99 ${outcome.completion.p99Ms} ms (bound < 1,000 ms)`);
      if (options.mustSustain && outcome.confirmed !== outcome.placed)
        failures.push(`${outcome.placed - outcome.confirmed} of ${outcome.placed} orders did not confirm`);
      if (options.noBusyCancellations && outcome.timedOut > 0)
        failures.push(
          `${outcome.timedOut} accepted orders were cancelled by step deadlines (the system was busy)`,
        );
      return {
        facts: {
          'accepted (202)': accepted,
          'shed at the edge (429/503)': shed,
          'orders placed': outcome.placed,
          confirmed: outcome.confirmed,
          'cancelled (all)': outcome.cancelled,
          'cancelled by a step deadline': outcome.timedOut,
          'confirmed sagas/s': outcome.confirmedPerSecond,
          'completion p50 (ms)': outcome.completion.p50Ms,
          'completion p99 (ms)': outcome.completion.p99Ms,
          'completion max (ms)': outcome.completion.maxMs,
        },
        failures,
      };
    },
    cleanup: defaults(ctx.system),
  };
}

const variant = (name: string, rate: number, options: WriteOptions = {}, okStatuses = [202]): Variant => ({
  name,
  prepare: (ctx) => prepare(ctx, options),
  attacks: (mode) => [
    {
      name: 'place',
      ...(mode === 'full' ? { rate, durationS: 30 } : { rate: 10, durationS: 2 }),
      request: PLACE_ORDER,
      okStatuses,
      timeoutS: 10,
    },
  ],
  thresholds: () => [{ attack: 'place', metric: 'errorRate', max: 0.001 }],
});

export const ordersWrite: Scenario = {
  name: 'orders-write',
  title: 'orders-write: placing orders through the gateway at fixed rates',
  question:
    'How many sagas per second confirm with p99 completion under 1 s, and at twice that rate does the edge refuse what it cannot finish instead of accepting orders that deadlines will cancel?',
  variants: [
    variant(`${SUSTAINABLE_RATE}/s`, SUSTAINABLE_RATE, { mustSustain: true }),
    variant(
      `overload ${SUSTAINABLE_RATE * 2}/s, admission control`,
      SUSTAINABLE_RATE * 2,
      { noBusyCancellations: true },
      [202, 503],
    ),
    // What admission control prevents: every order accepted, then cancelled by deadlines it could not meet.
    variant(`overload ${SUSTAINABLE_RATE * 2}/s, no admission control`, SUSTAINABLE_RATE * 2, {
      orderEnv: { ORDER_ADMISSION_MAX_IN_FLIGHT: '0' },
    }),
  ],
};
