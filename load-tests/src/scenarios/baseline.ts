import type { Prepared, Scenario, Variant } from '../scenario';
import { startHelloWorld, stopChild } from '../targets';
import { size } from './common';

/** The bare node:http hello world, started for the variant and stopped after it. */
export async function helloWorld(): Promise<Prepared> {
  const { url, child } = await startHelloWorld();
  return {
    vars: { BASELINE_URL: url },
    processes: { baseline: child.pid as number },
    cleanup: () => stopChild(child),
  };
}

/** One rate of the hello world (a scenario's same-run baseline, or a step of the ceiling's ladder). */
export const baselineVariant = (name: string, full: { rate: number; durationS: number }): Variant => ({
  name,
  prepare: helloWorld,
  attacks: (mode) => [
    {
      name: 'hello',
      ...size(mode, full),
      request: { method: 'GET', url: '{{var:BASELINE_URL}}/' },
    },
  ],
  thresholds: (mode) =>
    mode === 'full'
      ? [
          { attack: 'hello', metric: 'p99Ms', max: 100 },
          { attack: 'hello', metric: 'errorRate', max: 0.001 },
          { attack: 'hello', metric: 'achievedRate', min: full.rate * 0.99 },
        ]
      : [{ attack: 'hello', metric: 'errorRate', max: 0.001 }],
});

export const baseline: Scenario = {
  name: 'baseline',
  title: 'Baseline: a bare node:http hello world',
  question:
    "What does this machine's Node serve with no framework at all? The ceiling every other scenario is read against.",
  variants: [
    baselineVariant('baseline', { rate: 10_000, durationS: 30 }),
    baselineVariant('15k', { rate: 15_000, durationS: 30 }),
    baselineVariant('20k', { rate: 20_000, durationS: 30 }),
  ],
};
