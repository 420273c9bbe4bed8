import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trace a saga started in, so that the reaper's timeout-driven moves continue it. */
export class SagaTraceparent1732900000000 implements MigrationInterface {
  name = 'SagaTraceparent1732900000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE saga_instances ADD COLUMN IF NOT EXISTS traceparent text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE saga_instances DROP COLUMN traceparent');
  }
}
