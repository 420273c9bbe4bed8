import type { SagaPhase } from '@saga-lab/saga';
import { Pool } from 'pg';
import type { Readout } from './lab-files';

/** Sagas by state, and the oldest one still in flight: what the lab page shows of the order service. */
export interface SagaSummary {
  readonly byState: readonly { readonly state: string; readonly phase: SagaPhase; readonly count: number }[];
  readonly inFlight: number;
  readonly oldestInFlight: {
    readonly sagaId: string;
    readonly sagaType: string;
    readonly state: string;
    readonly phase: SagaPhase;
    readonly ageSeconds: number;
  } | null;
}

/** Not yet in a terminal phase (as the engine and the saga gauges define it). */
const IN_FLIGHT: readonly SagaPhase[] = ['RUNNING', 'COMPENSATING'];

export interface SagaReader {
  read(): Promise<Readout<SagaSummary>>;
  close(): Promise<void>;
}

/**
 * Reads the order service's saga table. A database that cannot be reached, or has no saga table yet, is a
 * readout of its own ("database unreachable: …") rather than an error: the page keeps showing the rest.
 */
export function sagaReader(databaseUrl: string): SagaReader {
  const pool = new Pool({
    connectionString: databaseUrl,
    max: 2,
    connectionTimeoutMillis: 2_000,
    idleTimeoutMillis: 10_000,
    // Guards each query too: the page asks every second and must not pile up behind a stuck database.
    statement_timeout: 2_000,
    application_name: 'saga-lab-page',
  });
  // An idle connection the server drops (a restart, a fault) must not crash the page's process.
  pool.on('error', () => undefined);
  return {
    async read() {
      try {
        const [byState, oldest] = await Promise.all([
          pool.query<{ state: string; phase: SagaPhase; count: number }>(
            `SELECT state, phase, count(*)::int AS count FROM saga_instances
              GROUP BY state, phase ORDER BY state, phase`,
          ),
          pool.query<{ saga_id: string; saga_type: string; state: string; phase: SagaPhase; age: number }>(
            `SELECT saga_id, saga_type, state, phase,
                    extract(epoch FROM now() - created_at)::float AS age
               FROM saga_instances WHERE phase = ANY($1)
              ORDER BY created_at, saga_id LIMIT 1`,
            [IN_FLIGHT],
          ),
        ]);
        const row = oldest.rows[0];
        return {
          value: {
            byState: byState.rows,
            inFlight: byState.rows
              .filter((r) => IN_FLIGHT.includes(r.phase))
              .reduce((n, r) => n + r.count, 0),
            oldestInFlight: row
              ? {
                  sagaId: row.saga_id,
                  sagaType: row.saga_type,
                  state: row.state,
                  phase: row.phase,
                  ageSeconds: Math.max(0, Math.floor(row.age)),
                }
              : null,
          },
        };
      } catch (error) {
        const { code, message } = error as { code?: string; message: string };
        // 42P01: undefined table — the database answers but the order service has not migrated it yet.
        return code === '42P01'
          ? { error: `no saga table yet: ${message}` }
          : { error: `database unreachable: ${message}` };
      }
    },
    close: () => pool.end(),
  };
}
