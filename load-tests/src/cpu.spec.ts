import { cpuBetween, type CpuSnapshot } from './cpu';

const at = (busy: number, total: number, pids: Record<number, number>): CpuSnapshot => ({
  busy,
  total,
  pids: new Map(Object.entries(pids).map(([pid, ticks]) => [Number(pid), ticks])),
});

describe('CPU between two snapshots', () => {
  // 400 ticks passed on a 2-core machine (2 s of wall time), 300 of them busy.
  const a = at(1_000, 5_000, { 10: 100, 20: 50 });
  const b = at(1_300, 5_400, { 10: 250, 20: 110 });

  it('gives each group % of one core and µs of CPU per request, the rest as other', () => {
    expect(cpuBetween(a, b, { server: [10], k6: [20] }, 3_000, 2)).toEqual({
      machineBusyPct: 75,
      serverPct: 75, // 150 ticks of 200 per core
      serverUsPerRequest: 500, // 1.5 s of CPU over 3000 requests
      k6Pct: 30,
      k6UsPerRequest: 200,
      otherPct: 45, // 300 busy − 210 accounted
    });
  });

  it('adds up the processes of a group', () => {
    const cpu = cpuBetween(a, b, { server: [10, 20] }, 7, 2);
    expect(cpu['serverPct']).toBe(105);
    expect(cpu['serverUsPerRequest']).toBe(300_000); // 2.1 s ÷ 7, to a tenth of a µs
  });

  it('keeps one decimal of µs per request', () => {
    expect(cpuBetween(a, b, { server: [10] }, 7_000, 2)['serverUsPerRequest']).toBe(214.3);
  });

  it('counts a pid it never saw as no CPU, and no requests as no cost per request', () => {
    expect(cpuBetween(a, b, { server: [99] }, 0, 2)).toEqual({
      machineBusyPct: 75,
      serverPct: 0,
      serverUsPerRequest: 0,
      otherPct: 150,
    });
  });

  it('survives two snapshots in the same tick, and never reports negative other', () => {
    expect(Object.values(cpuBetween(a, a, { server: [10] }, 10, 2))).toEqual([0, 0, 0, 0]);
    const busier = at(1_010, 5_010, { 10: 200 });
    expect(cpuBetween(a, busier, { server: [10] }, 1, 2)['otherPct']).toBe(0);
  });
});
