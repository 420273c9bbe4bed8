import { HttpAnswer } from '@saga-lab/observability';
import type { DataSource } from 'typeorm';
import { Admission } from './admission';

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('admission control', () => {
  const backlog = (counts: number[]) => {
    const queries: string[] = [];
    const dataSource = {
      query: async (sql: string) => {
        queries.push(sql);
        return [{ n: counts.shift() ?? 0 }];
      },
    } as unknown as DataSource;
    return { dataSource, queries };
  };

  it('lets orders in below the limit and refuses them at it with 503 OVERLOADED and Retry-After', async () => {
    const { dataSource } = backlog([5, 200]);
    let shed = 0;
    const admission = new Admission(dataSource, { maxInFlight: 200, refreshMs: 0 }, () => shed++);
    admission.admit(); // the first order reads the backlog (5) without waiting for it
    await flush();
    admission.admit(); // 5 < 200: in; reads again (200)
    await flush();
    let refusal: unknown;
    try {
      admission.admit();
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(HttpAnswer);
    expect(refusal).toMatchObject({
      code: 'OVERLOADED',
      headers: { 'retry-after': '1' },
      details: { inFlight: 200 },
    });
    expect(shed).toBe(1);
  });

  it('reads the backlog at most once per refresh interval, and never with the limit at 0', async () => {
    const { dataSource, queries } = backlog([1, 1, 1]);
    const admission = new Admission(dataSource, { maxInFlight: 10, refreshMs: 60_000 });
    for (let i = 0; i < 50; i++) admission.admit();
    await flush();
    expect(queries).toHaveLength(1);
    expect(queries[0]).toMatch(/deadline IS NOT NULL/);

    const off = backlog([1_000_000]);
    const disabled = new Admission(off.dataSource, { maxInFlight: 0, refreshMs: 0 });
    disabled.admit();
    expect(off.queries).toHaveLength(0);
  });
});
