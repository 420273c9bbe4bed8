import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Saga instances: one row each; `version` gives optimistic concurrency, `deadline` drives the reaper. */
export class SagaInstances1732400000000 implements MigrationInterface {
  name = 'SagaInstances1732400000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE saga_instances (
        saga_id              text PRIMARY KEY,
        saga_type            text NOT NULL,
        phase                text NOT NULL,
        state                text NOT NULL,
        step                 int NOT NULL,
        data                 jsonb NOT NULL,
        deadline             timestamptz,
        compensation_attempt int NOT NULL DEFAULT 0,
        failure_reason       text,
        history              jsonb NOT NULL,
        correlation_id       text NOT NULL,
        version              int NOT NULL,
        created_at           timestamptz NOT NULL DEFAULT now(),
        updated_at           timestamptz NOT NULL DEFAULT now()
      )`);
    // The reaper's query: overdue sagas still in flight.
    await runner.query(
      `CREATE INDEX saga_instances_deadline_idx ON saga_instances (deadline) WHERE deadline IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE saga_instances');
  }
}
