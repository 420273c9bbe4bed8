import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Inventory1732500000000 implements MigrationInterface {
  name = 'Inventory1732500000000';

  async up(runner: QueryRunner): Promise<void> {
    // Stock never negative, enforced by the database as well as by the conditional updates.
    await runner.query(`
      CREATE TABLE products (
        product_id   text PRIMARY KEY,
        name         text NOT NULL,
        price_minor  bigint NOT NULL CHECK (price_minor >= 0),
        currency     char(3) NOT NULL,
        available    int NOT NULL CHECK (available >= 0),
        reserved     int NOT NULL DEFAULT 0 CHECK (reserved >= 0),
        version      int NOT NULL DEFAULT 1,
        updated_at   timestamptz NOT NULL DEFAULT now()
      )`);
    // One row per order, whatever happens to it: RESERVED, REJECTED, or RELEASED (also as a tombstone
    // for an order released before any reservation arrived, so a late ReserveStock cannot reserve).
    await runner.query(`
      CREATE TABLE reservations (
        order_id       uuid PRIMARY KEY,
        reservation_id uuid NOT NULL UNIQUE,
        status         text NOT NULL CHECK (status IN ('RESERVED', 'REJECTED', 'RELEASED')),
        lines          jsonb NOT NULL,
        created_at     timestamptz NOT NULL DEFAULT now(),
        updated_at     timestamptz NOT NULL DEFAULT now()
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE reservations');
    await runner.query('DROP TABLE products');
  }
}
