/** Knobs come from the environment; run.ts and load-tests/README.md document them. */

const numbers = (name: string, fallback: string): number[] => {
  const raw = process.env[name] ?? fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v <= 0)) {
    throw new Error(`${name}=${raw} is not a comma-separated list of positive integers (e.g. ${fallback})`);
  }
  return values;
};

/** Seconds in a k6 duration like 500ms, 10s or 1m. */
export function seconds(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(value);
  if (!match) throw new Error(`${name}=${value} is not a duration like 10s, 500ms or 1m`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
}

export const TARGETS = ['hello-world', 'gateway'] as const;
export type TargetName = (typeof TARGETS)[number];

export interface Settings {
  readonly rates: number[];
  readonly duration: string;
  readonly durationS: number;
  /** A first, unrecorded run at the lowest rate (JIT, connection pools, the gateway's cache); '0s' skips. */
  readonly warmup: string;
  readonly targets: TargetName[];
  readonly maxErrorRate: number;
  readonly maxDroppedShare: number;
  /** A target's ladder stops after this many steps in a row that did not hold. */
  readonly stopAfter: number;
  readonly gatewayUrl: string;
  readonly product: string;
}

export function settings(): Settings {
  const duration = process.env['DURATION'] ?? '10s';
  const warmup = process.env['WARMUP'] ?? '3s';
  seconds('WARMUP', warmup);
  const targets = (process.env['TARGETS'] ?? TARGETS.join(',')).split(',').map((t) => t.trim());
  const unknown = targets.filter((t) => !(TARGETS as readonly string[]).includes(t));
  if (unknown.length > 0 || targets.length === 0) {
    throw new Error(`TARGETS=${targets.join(',')} may only name ${TARGETS.join(', ')}`);
  }
  return {
    rates: numbers('RATES', '500,1000,1500,2000,3000,4000,5000,6000,7000,8000,10000,12000').sort(
      (a, b) => a - b,
    ),
    duration,
    durationS: seconds('DURATION', duration),
    warmup,
    targets: TARGETS.filter((t) => targets.includes(t)),
    maxErrorRate: Number(process.env['MAX_ERROR_RATE'] ?? 0.01),
    maxDroppedShare: Number(process.env['MAX_DROPPED_SHARE'] ?? 0.01),
    stopAfter: Number(process.env['STOP_AFTER'] ?? 2),
    gatewayUrl: (process.env['GATEWAY_URL'] ?? 'http://127.0.0.1:3000').replace(/\/+$/, ''),
    product: process.env['PRODUCT'] ?? 'espresso-beans',
  };
}
