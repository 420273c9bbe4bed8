import { limitOf, stepOf, type K6Summary, type Step } from './measure';

const limits = { maxErrorRate: 0.01, maxDroppedShare: 0.01 };

const summary = (values: Record<string, Record<string, number>>): K6Summary => ({
  metrics: Object.fromEntries(Object.entries(values).map(([name, v]) => [name, { values: v }])),
});

describe('a step from k6 summary', () => {
  const k6 = summary({
    http_reqs: { count: 19_850 },
    dropped_iterations: { count: 150 },
    http_req_failed: { rate: 0.0040302, passes: 80 },
    http_req_duration: { 'p(50)': 1.23456, 'p(95)': 4.5, 'p(99)': 9.999, max: 120.0049 },
    status_429: { count: 30 },
    status_5xx: { count: 50 },
  });

  it('derives the achieved rate, shares, latencies and statuses', () => {
    const cpuFor = jest.fn((requests: number) => ({ serverUsPerRequest: 1e6 / requests }));
    expect(stepOf(k6, 2_000, 10, limits, cpuFor)).toEqual({
      rate: 2_000,
      durationS: 10,
      requests: 19_850,
      achievedRate: 1_985,
      errorRate: 0.00403,
      dropped: 150,
      droppedShare: 0.0075,
      latencyMs: { p50: 1.23, p95: 4.5, p99: 10, max: 120 },
      statuses: { ok: 19_770, tooMany: 30, serverError: 50, other: 0 },
      cpu: { serverUsPerRequest: 1e6 / 19_850 },
      holds: true,
    });
    expect(cpuFor).toHaveBeenCalledWith(19_850);
  });

  it('holds below the error rate and up to the dropped share, not beyond', () => {
    const holds = (failed: number, dropped: number): boolean =>
      stepOf(
        summary({
          http_reqs: { count: 1_000 },
          http_req_failed: { rate: failed },
          dropped_iterations: { count: dropped },
        }),
        100,
        10,
        limits,
        () => ({}),
      ).holds;
    expect(holds(0.0099, 10)).toBe(true); // 10 of 1000 scheduled: exactly 1% dropped
    expect(holds(0.01, 0)).toBe(false);
    expect(holds(0, 11)).toBe(false);
  });
});

const step = (rate: number, holds: boolean, cpu: Record<string, number> = {}): Step => ({
  rate,
  durationS: 10,
  requests: rate * 10,
  achievedRate: rate,
  errorRate: 0,
  dropped: 0,
  droppedShare: 0,
  latencyMs: { p50: 1, p95: 1, p99: 1, max: 1 },
  statuses: { ok: rate * 10, tooMany: 0, serverError: 0, other: 0 },
  cpu,
  holds,
});

describe('what limited a target', () => {
  const best = step(2_000, true);

  it('is the server when its processes used ≥ 80% of a core each at the first step that failed', () => {
    const steps = [best, step(2_500, false, { serverPct: 84, k6Pct: 53, machineBusyPct: 84 })];
    expect(limitOf(steps, best, 1)).toBe(
      'the server (its cores were busy): at 2500/s the server used 84% of one core, k6 53%, the machine 84% of all cores',
    );
    expect(limitOf(steps, best, 2)).toMatch(/^the machine \(k6 and the server together filled the cores\)/);
  });

  it('is the machine when the cores were full but not with the server', () => {
    const steps = [best, step(3_000, false, { serverPct: 35, k6Pct: 107, machineBusyPct: 84 })];
    expect(limitOf(steps, best, 1)).toMatch(/^the machine .*: at 3000\/s the server used 35% of one core/);
  });

  it('is not CPU when nothing was busy, and not reached when no step above the maximum failed', () => {
    expect(limitOf([best, step(3_000, false, { serverPct: 20, machineBusyPct: 30 })], best, 1)).toMatch(
      /^not CPU /,
    );
    expect(limitOf([step(1_000, false), best], best, 1)).toBe('not reached');
    expect(limitOf([step(1_000, false, { machineBusyPct: 90 })], undefined, 1)).toMatch(/^the machine/);
  });
});
