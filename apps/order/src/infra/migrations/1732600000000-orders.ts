import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Orders1732600000000 implements MigrationInterface {
  name = 'Orders1732600000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE orders (
        order_id        uuid PRIMARY KEY,
        customer_id     text NOT NULL,
        lines           jsonb NOT NULL,
        total_minor     bigint NOT NULL CHECK (total_minor >= 0),
        currency        char(3) NOT NULL,
        status          text NOT NULL CHECK (status IN ('PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED')),
        status_reason   text,
        idempotency_key text UNIQUE,
        created_at      timestamptz NOT NULL DEFAULT now(),
        updated_at      timestamptz NOT NULL DEFAULT now()
      )`);
    // A customer's orders, newest first (the list endpoint's query).
    await runner.query(`CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE orders');
  }
}
