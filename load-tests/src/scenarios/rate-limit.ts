import type { PrepareContext, Prepared, Scenario, Variant } from '../scenario';
import { call, login } from '../targets';
import { customerSession, gatewayWith, defaults } from './common';

/** The per-user quota under test (burst 100, 50 per second) and the noisy client's rate, 10× the quota. */
const QUOTA = { capacity: 100, perSecond: 50 };
const NOISY_RATE = QUOTA.perSecond * 10;
const CALM_RATE = QUOTA.perSecond / 2;

async function prepare(ctx: PrepareContext, mode: 'exact' | 'approximate'): Promise<Prepared> {
  const gateway = await gatewayWith(ctx.system, {
    GATEWAY_RATE_LIMIT_MODE: mode,
    GATEWAY_RATE_LIMIT_USER: `${QUOTA.capacity}:${QUOTA.perSecond}`,
    // Every client of a local run comes from 127.0.0.1: the address limit would make one user's excess
    // everyone's. Raised here so the per-user limit is what is measured.
    GATEWAY_RATE_LIMIT_IP: '100000000:100000000',
  });
  const noisy = await customerSession(ctx);
  const [, bob] = ctx.system.customers();
  if (!bob) throw new Error('no second demo customer');
  const calmToken = await login(noisy.gatewayUrl, bob.username, bob.password);
  const redis = ctx.system.pid('redis');
  const started = Date.now();
  return {
    vars: {
      GATEWAY_URL: noisy.gatewayUrl,
      NOISY_TOKEN: noisy.token,
      CALM_TOKEN: calmToken,
      PRODUCTS: noisy.products.join(','),
    },
    processes: { gateway, ...(redis === undefined ? {} : { redis }) },
    findings: async (attacks) => {
      // A refusal must say when to come back: one more request over the quota, its headers read.
      const url = `${noisy.gatewayUrl}/v1/products/${noisy.products[0]}`;
      const headers = { authorization: `Bearer ${noisy.token}` };
      let refused: Headers | undefined;
      for (let i = 0; i < QUOTA.capacity * 2 && !refused; i++) {
        const r = await call('GET', url, { headers, expect: [200, 429] });
        if (r.status === 429) refused = r.headers;
      }
      const failures: string[] = [];
      const missing = [
        'retry-after',
        'ratelimit-limit',
        'ratelimit-remaining',
        'ratelimit-reset',
        'ratelimit-policy',
      ].filter((h) => !refused?.get(h));
      if (!refused) failures.push(`no 429 after ${QUOTA.capacity * 2} requests over the quota`);
      else if (missing.length) failures.push(`a 429 without ${missing.join(', ')}`);
      const noisyRun = attacks.find((a) => a.name === 'noisy');
      const admitted = noisyRun?.statuses['200'] ?? 0;
      // The most a perfect limiter admits over the attack: a full burst, then the refill rate (after a
      // warm-up the bucket starts nearly empty, so an exact limiter lands near the refill alone).
      const allowed = QUOTA.capacity + QUOTA.perSecond * (noisyRun?.durationS ?? 0);
      const overAdmission = allowed > 0 ? Math.max(0, admitted - allowed) / allowed : 0;
      if (overAdmission > 0.5)
        failures.push(`the noisy client got ${admitted} requests through, ${allowed} allowed`);
      return {
        facts: {
          'noisy client: admitted / most allowed': `${admitted} / ${allowed}`,
          'over-admission': `${(overAdmission * 100).toFixed(1)} %`,
          'quota (per user)': `burst ${QUOTA.capacity}, ${QUOTA.perSecond}/s`,
          'window (s)': Math.round((Date.now() - started) / 1000),
          'a 429 carries': refused
            ? `Retry-After: ${refused.get('retry-after')}; RateLimit-Policy: ${refused.get('ratelimit-policy')}`
            : 'no 429 seen',
        },
        failures,
      };
    },
    cleanup: defaults(ctx.system),
  };
}

const variant = (mode: 'exact' | 'approximate', durationS: number): Variant => ({
  name: mode,
  prepare: (ctx) => prepare(ctx, mode),
  attacks: (m) => {
    const d = m === 'full' ? durationS : 3;
    const read = (token: string) => ({
      method: 'GET' as const,
      url: '{{var:GATEWAY_URL}}/v1/products/{{pick:PRODUCTS}}',
      headers: { authorization: `Bearer {{var:${token}}}` },
    });
    return [
      // 429 is the answer expected here: an error is anything else (a 5xx, a timeout).
      { name: 'noisy', rate: NOISY_RATE, durationS: d, request: read('NOISY_TOKEN'), okStatuses: [200, 429] },
      { name: 'calm', rate: CALM_RATE, durationS: d, request: read('CALM_TOKEN') },
    ];
  },
  thresholds: () => [
    { attack: 'calm', metric: 'errorRate', max: 0.0001 }, // the others are unaffected: not one refusal
    { attack: 'noisy', metric: 'errorRate', max: 0.001 },
  ],
});

export const rateLimit: Scenario = {
  name: 'rate-limit',
  title: 'rate-limit: one client at 10× its quota, another within it',
  question:
    'Does a client at ten times its quota get 429s with the headers that say when to retry, while a client within its quota is never refused — and what do exact (Redis per request) and approximate (local, synced) limiting cost and over-admit?',
  variants: [variant('exact', 30), variant('approximate', 30)],
};
