import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from './cli';
import { EXPERIMENTS } from './experiments';
import { derive, seeded } from './random';
import { planWorkload } from './workload';

describe('a seeded lab run', () => {
  const plan = (seed: number) =>
    planWorkload(seeded(derive(seed, 'workload')), 'run', {
      ratePerSecond: 5,
      durationMs: 4_000,
      customers: ['alice', 'bob'],
    });

  it('plans the same workload for the same seed, and another for another seed', () => {
    expect(plan(7)).toEqual(plan(7));
    expect(plan(8)).not.toEqual(plan(7));
  });

  it('sends orders at a fixed arrival rate, over scarce stock', () => {
    const { orders, products } = plan(1);
    expect(orders).toHaveLength(20);
    expect(orders.map((o) => o.atMs)).toEqual(orders.map((_, n) => n * 200));
    for (const product of products) {
      const demand = orders
        .flatMap((o) => o.lines)
        .filter((l) => l.productId === product.productId)
        .reduce((a, l) => a + l.quantity, 0);
      if (demand > 1) expect(product.stock).toBeLessThan(demand);
    }
    expect(new Set(orders.map((o) => o.idempotencyKey)).size).toBe(orders.length);
  });

  it('schedules the same faults for the same seed', () => {
    for (const experiment of EXPERIMENTS) {
      const times = (seed: number) =>
        experiment
          .schedule(seeded(derive(seed, 'faults')), 30_000)
          .map((s) => [s.fault.name, s.atMs, s.forMs]);
      expect(times(3)).toEqual(times(3));
    }
  });

  it('names every safeguard-off run after the invariant it must break, and never leaves a switch on by default', () => {
    const off = EXPERIMENTS.filter((e) => e.safeguardOff);
    expect(off.map((e) => e.safeguardOff).sort()).toEqual([
      'inbox',
      'outbox',
      'provider-idempotency',
      'reaper',
      'reconciliation',
      'reconciliation',
    ]);
    for (const e of off) expect('caught' in e.expect && e.expect.caught.length > 0).toBe(true);
    for (const e of EXPERIMENTS.filter((x) => !x.safeguardOff))
      expect(JSON.stringify(e.services ?? {})).not.toContain('SAGA_LAB_SAFEGUARDS_OFF');
  });
});

describe('the failure lab document', () => {
  it('names every experiment (docs/failure-lab.md)', () => {
    const doc = readFileSync(path.resolve(__dirname, '../../docs/failure-lab.md'), 'utf8');
    const missing = EXPERIMENTS.filter((e) => {
      // Families are listed once with their suffixes: `crash-before-publish-order`, `-inventory`, `-payment`.
      const [family, suffix] = [
        e.name.slice(0, e.name.lastIndexOf('-')),
        e.name.slice(e.name.lastIndexOf('-')),
      ];
      return (
        !doc.includes(`\`${e.name}\``) && !(doc.includes(`\`${family}-`) && doc.includes(`\`${suffix}\``))
      );
    });
    expect(missing.map((e) => e.name)).toEqual([]);
  });
});

describe('npm run lab arguments', () => {
  it('reads the experiment and its options', () => {
    expect(parseArgs(['kill-order', '--seed', '4', '--rate', '3', '--duration', '12'])).toMatchObject({
      command: 'kill-order',
      seed: 4,
      rate: 3,
      durationS: 12,
      convergeS: 60,
    });
  });

  it('refuses unknown options and nonsense values with the usage', () => {
    expect(() => parseArgs(['kill-order', '--sed', '4'])).toThrow(/unknown option --sed/);
    expect(() => parseArgs(['kill-order', '--rate', '0'])).toThrow(/positive/);
    expect(() => parseArgs(['kill-order', '--rate', '500'])).toThrow(/load test/);
    expect(() => parseArgs([])).toThrow(/npm run lab/);
  });
});
