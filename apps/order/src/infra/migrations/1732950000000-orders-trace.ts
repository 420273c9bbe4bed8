import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The trace an order was placed in, so its detail can link to it (the whole saga is that one trace). */
export class OrdersTrace1732950000000 implements MigrationInterface {
  name = 'OrdersTrace1732950000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE orders ADD COLUMN IF NOT EXISTS trace_id text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE orders DROP COLUMN trace_id');
  }
}
