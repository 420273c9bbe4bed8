import 'reflect-metadata';
import { DataSource } from 'typeorm';
import {
  NO_FAULTS,
  ProviderSimulator,
  planCall,
  validateFaults,
  type ProviderFaults,
} from './provider-simulator';
import { seededRandom } from './random';

/** Hands out the given numbers, then fails: a test sees exactly how many draws a decision takes. */
const scripted = (...values: number[]): (() => number) & { left: () => number } => {
  const queue = [...values];
  return Object.assign(
    () => {
      const next = queue.shift();
      if (next === undefined) throw new Error('drew more random numbers than scripted');
      return next;
    },
    { left: () => queue.length },
  );
};

const faults = (changes: Partial<ProviderFaults>): ProviderFaults => ({ ...NO_FAULTS, ...changes });

describe('planCall: the fault decisions of one provider call', () => {
  it('aims latency, timeouts and lost responses at the operations named, and leaves the others prompt', () => {
    const aimed = faults({ latencyMs: 50, timeoutRate: 1, lostResponseRate: 1, operations: ['authorize'] });
    expect(planCall(aimed, 100, scripted(0, 0, 0), 'authorize')).toMatchObject({
      timedOut: true,
      durationMs: 250,
    });
    expect(planCall(aimed, 100, scripted(0, 0, 0), 'find')).toEqual({
      declined: false,
      durationMs: 0,
      timedOut: false,
      responseLost: false,
    });
    const lost = faults({ lostResponseRate: 1, operations: ['capture'] });
    expect(planCall(lost, 100, scripted(0.9, 0, 0), 'capture').responseLost).toBe(true);
    expect(planCall(lost, 100, scripted(0.9, 0, 0), 'void').responseLost).toBe(false);
  });

  it('without faults, takes the latency and nothing else happens', () => {
    expect(planCall(faults({ latencyMs: 7 }), 100, scripted(0, 0, 0))).toEqual({
      declined: false,
      durationMs: 7,
      timedOut: false,
      responseLost: false,
    });
  });

  it('draws exactly three numbers — decline, timeout, lost response — whatever the rates', () => {
    for (const rates of [NO_FAULTS, faults({ declineRate: 1, timeoutRate: 1, lostResponseRate: 1 })]) {
      const random = scripted(0.5, 0.5, 0.5, 0.5);
      planCall(rates, 100, random);
      expect(random.left()).toBe(1);
    }
    const rates = faults({ declineRate: 0.5, timeoutRate: 0.5, lostResponseRate: 0.5 });
    expect(planCall(rates, 100, scripted(0.1, 0.9, 0.9))).toMatchObject({
      declined: true,
      timedOut: false,
      responseLost: false,
    });
    expect(planCall(rates, 100, scripted(0.9, 0.9, 0.1))).toMatchObject({
      declined: false,
      timedOut: false,
      responseLost: true,
    });
  });

  it('a rate is a strict threshold: a draw equal to it does not fault, a rate of 1 always does', () => {
    expect(planCall(faults({ declineRate: 0.5 }), 100, scripted(0.5, 0, 0)).declined).toBe(false);
    expect(planCall(faults({ declineRate: 1 }), 100, scripted(0.999_999, 0, 0)).declined).toBe(true);
  });

  it('a slow call outlasts the caller timeout, and its response cannot also be lost', () => {
    const plan = planCall(
      faults({ latencyMs: 5, timeoutRate: 0.5, lostResponseRate: 1 }),
      100,
      scripted(0, 0.2, 0),
    );
    expect(plan).toEqual({ declined: false, durationMs: 205, timedOut: true, responseLost: false });
  });

  it('latency at or above the caller timeout times out even without the timeout fault', () => {
    expect(planCall(faults({ latencyMs: 99 }), 100, scripted(0, 0, 0)).timedOut).toBe(false);
    expect(planCall(faults({ latencyMs: 100 }), 100, scripted(0, 0, 0)).timedOut).toBe(true);
  });

  it('over many seeded calls, each fault happens at about its rate', () => {
    const random = seededRandom(1234);
    const rates = faults({ declineRate: 0.1, timeoutRate: 0.25, lostResponseRate: 0.4 });
    const plans = Array.from({ length: 20_000 }, () => planCall(rates, 100, random));
    const share = (pick: (p: (typeof plans)[number]) => boolean): number =>
      plans.filter(pick).length / plans.length;
    // Within 1.5 percentage points (about 5 standard deviations at this sample size).
    expect(Math.abs(share((p) => p.declined) - 0.1)).toBeLessThan(0.015);
    expect(Math.abs(share((p) => p.timedOut) - 0.25)).toBeLessThan(0.015);
    // A lost response needs a call that did not time out: 0.4 × 0.75.
    expect(Math.abs(share((p) => p.responseLost) - 0.3)).toBeLessThan(0.015);
  });
});

describe('fault knobs', () => {
  it('rejects rates outside [0, 1] and negative latency', () => {
    expect(() => validateFaults(faults({ declineRate: 1.01 }))).toThrow(RangeError);
    expect(() => validateFaults(faults({ timeoutRate: -0.1 }))).toThrow(RangeError);
    expect(() => validateFaults(faults({ lostResponseRate: Number.NaN }))).toThrow(RangeError);
    expect(() => validateFaults(faults({ latencyMs: -1 }))).toThrow(RangeError);
    expect(validateFaults(faults({ declineRate: 1, latencyMs: 0 }))).toEqual(faults({ declineRate: 1 }));
  });

  it('change at runtime, one knob at a time, and a bad change leaves the knobs as they were', () => {
    // Never initialized: the knobs do not touch the ledger.
    const simulator = new ProviderSimulator(new DataSource({ type: 'postgres' }), {
      faults: { latencyMs: 3 },
    });
    simulator.setFaults({ declineRate: 0.3 });
    expect(simulator.faults).toEqual(faults({ latencyMs: 3, declineRate: 0.3 }));
    expect(() => simulator.setFaults({ timeoutRate: 2 })).toThrow(RangeError);
    expect(simulator.faults).toEqual(faults({ latencyMs: 3, declineRate: 0.3 }));
    expect(() => new ProviderSimulator(new DataSource({ type: 'postgres' }), { timeoutMs: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for a seed, stays in [0, 1), and differs between seeds', () => {
    const a = Array.from({ length: 1_000 }, seededRandom(42));
    expect(Array.from({ length: 1_000 }, seededRandom(42))).toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(990);
    expect(Array.from({ length: 1_000 }, seededRandom(43))).not.toEqual(a);
    expect(Array.from({ length: 10 }, seededRandom(0)).every((x) => x > 0)).toBe(true);
  });
});
