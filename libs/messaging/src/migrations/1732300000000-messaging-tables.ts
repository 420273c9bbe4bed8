import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The outbox and inbox tables every service database has (each service runs this with its own migrations). */
export class MessagingTables1732300000000 implements MigrationInterface {
  name = 'MessagingTables1732300000000';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE outbox (
        message_id   uuid PRIMARY KEY,
        topic        text NOT NULL,
        message_key  text NOT NULL,
        type         text NOT NULL,
        envelope     jsonb NOT NULL,
        headers      jsonb NOT NULL,
        created_at   timestamptz NOT NULL DEFAULT now(),
        published_at timestamptz,
        attempts     int NOT NULL DEFAULT 0,
        last_error   text
      )`);
    // The relay's only query: oldest pending rows. A partial index keeps it small however long the table grows.
    await runner.query(`CREATE INDEX outbox_pending_idx ON outbox (created_at) WHERE published_at IS NULL`);
    await runner.query(`
      CREATE TABLE inbox (
        consumer_group text NOT NULL,
        message_id     uuid NOT NULL,
        processed_at   timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (consumer_group, message_id)
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE inbox');
    await runner.query('DROP TABLE outbox');
  }
}
