import { Gauge, type Registry } from 'prom-client';
import type { DataSource } from 'typeorm';

/**
 * Sagas by state, and the age of the oldest one still in flight — what says a saga is stuck (the
 * `SagaStuckPastDeadline` alert). Read from the saga table when Prometheus scrapes; a failed read leaves
 * the gauges out of that scrape.
 */
export function registerSagaGauges(registry: Registry, dataSource: DataSource, sagaType: string): void {
  new Gauge({
    name: 'saga_lab_sagas',
    help: 'Sagas by state (terminal states included)',
    labelNames: ['saga', 'state'] as const,
    registers: [registry],
    async collect() {
      const rows = (await dataSource
        .query('SELECT state, count(*)::int AS n FROM saga_instances WHERE saga_type = $1 GROUP BY state', [
          sagaType,
        ])
        .catch(() => undefined)) as { state: string; n: number }[] | undefined;
      if (!rows) return;
      this.reset();
      for (const row of rows) this.set({ saga: sagaType, state: row.state }, row.n);
    },
  });
  new Gauge({
    name: 'saga_lab_saga_oldest_inflight_age_seconds',
    help: 'Age of the oldest saga not yet in a terminal state (0 when none is in flight)',
    labelNames: ['saga'] as const,
    registers: [registry],
    async collect() {
      const rows = (await dataSource
        .query(
          `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float AS age
             FROM saga_instances WHERE saga_type = $1 AND phase IN ('RUNNING', 'COMPENSATING')`,
          [sagaType],
        )
        .catch(() => undefined)) as { age: number }[] | undefined;
      if (rows?.[0]) this.set({ saga: sagaType }, rows[0].age);
    },
  });
}
