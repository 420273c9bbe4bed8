import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes for GET /orders' keyset pages, newest first on (created_at, order_id): one customer's orders, and
 * everyone's (admins). Each matches the sort and the row comparison of the page bound exactly, read backwards,
 * so a page is an index range scan with no sort whatever its depth. The first index makes the original
 * (customer_id, created_at DESC) one redundant.
 */
export class OrdersPageIndexes1732700000000 implements MigrationInterface {
  name = 'OrdersPageIndexes1732700000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX orders_customer_page_idx ON orders (customer_id, created_at, order_id)');
    await runner.query('CREATE INDEX orders_page_idx ON orders (created_at, order_id)');
    await runner.query('DROP INDEX orders_customer_idx');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('CREATE INDEX orders_customer_idx ON orders (customer_id, created_at DESC)');
    await runner.query('DROP INDEX orders_page_idx');
    await runner.query('DROP INDEX orders_customer_page_idx');
  }
}
