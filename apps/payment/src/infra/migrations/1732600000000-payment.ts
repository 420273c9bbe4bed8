import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Payment1732600000000 implements MigrationInterface {
  name = 'Payment1732600000000';

  async up(runner: QueryRunner): Promise<void> {
    // One row per order, whatever happens to it. A VOIDED row may be a tombstone for an order voided before
    // any authorization arrived (so a late AuthorizePayment cannot charge): it has no customer and maybe no
    // amount, which is why those columns are only required for the other statuses.
    // Money: integer minor units (bigint), never a float.
    await runner.query(`
      CREATE TABLE payments (
        order_id      uuid PRIMARY KEY,
        payment_id    uuid NOT NULL UNIQUE,
        customer_id   text,
        amount_minor  bigint CHECK (amount_minor >= 0),
        currency      char(3),
        status        text NOT NULL
                      CHECK (status IN ('AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED', 'REFUNDED')),
        provider_ref  text,
        created_at    timestamptz NOT NULL DEFAULT now(),
        updated_at    timestamptz NOT NULL DEFAULT now(),
        CHECK ((amount_minor IS NULL) = (currency IS NULL)),
        CHECK (status = 'VOIDED' OR (customer_id IS NOT NULL AND amount_minor IS NOT NULL)),
        CHECK (status NOT IN ('AUTHORIZED', 'CAPTURED', 'REFUNDED') OR provider_ref IS NOT NULL)
      )`);
    // The payment-provider simulator's own ledger. It lives in this database only because the simulator runs
    // in-process; it is written outside the service's transactions, like the external system it models.
    // Idempotency key: the primary key, so one key can never record two charges.
    await runner.query(`
      CREATE TABLE provider_charges (
        idempotency_key text PRIMARY KEY,
        provider_ref    text NOT NULL UNIQUE,
        kind            text NOT NULL CHECK (kind IN ('AUTHORIZE', 'CAPTURE', 'VOID', 'REFUND')),
        order_id        uuid NOT NULL,
        amount_minor    bigint NOT NULL CHECK (amount_minor >= 0),
        currency        char(3) NOT NULL,
        outcome         text NOT NULL CHECK (outcome IN ('APPROVED', 'DECLINED')),
        created_at      timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query('CREATE INDEX provider_charges_order_id ON provider_charges (order_id)');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE provider_charges');
    await runner.query('DROP TABLE payments');
  }
}
