import 'reflect-metadata';
import type { Money } from '@saga-lab/contracts';

import { randomUUID } from 'node:crypto';
import { paymentSchema } from './payment-schema';
import {
  authorizePayment,
  capturePayment,
  voidOrRefundPayment,
  type AuthorizeCommand,
  type AuthorizeResult,
} from '../src/domain/payments';
import { PER_ATTEMPT_KEYS } from '../src/domain/provider-keys';
import { ProviderError, type PaymentProvider } from '../src/provider/payment-provider';
import { ProviderSimulator } from '../src/provider/provider-simulator';
import { seededRandom } from '../src/provider/random';

const TIMEOUT_MS = 40;
const eur = (amountMinor: number): Money => ({ amountMinor, currency: 'EUR' });

interface LedgerEntry {
  kind: string;
  outcome: string;
  amount_minor: string;
  provider_ref: string;
}

interface PaymentEntry {
  payment_id: string;
  status: string;
  amount_minor: string | null;
  provider_ref: string | null;
}

describe('payments (real PostgreSQL, provider simulator with faults)', () => {
  const { schema, connect } = paymentSchema('pay');
  const dataSource = connect(10);
  // The provider's own connections: its ledger must not ride on the service's transactions.
  const providerDataSource = connect(5);
  let provider = new ProviderSimulator(providerDataSource, { timeoutMs: TIMEOUT_MS });

  const authorize = (command: AuthorizeCommand): Promise<AuthorizeResult> =>
    dataSource.transaction((m) => authorizePayment(m, provider, command));
  const capture = (orderId: string) => dataSource.transaction((m) => capturePayment(m, provider, orderId));
  const voidIt = (orderId: string) =>
    dataSource.transaction((m) => voidOrRefundPayment(m, provider, orderId));
  const order = (amountMinor = 2_599): AuthorizeCommand => ({
    orderId: randomUUID(),
    customerId: 'customer-1',
    amount: eur(amountMinor),
  });
  const ledger = async (orderId: string): Promise<LedgerEntry[]> =>
    (await dataSource.query(
      'SELECT kind, outcome, amount_minor, provider_ref FROM provider_charges WHERE order_id = $1 ORDER BY created_at, kind',
      [orderId],
    )) as LedgerEntry[];
  const payment = async (orderId: string): Promise<PaymentEntry | undefined> =>
    (
      (await dataSource.query(
        'SELECT payment_id, status, amount_minor, provider_ref FROM payments WHERE order_id = $1',
        [orderId],
      )) as PaymentEntry[]
    )[0];
  const kindsOf = async (orderId: string): Promise<string[]> =>
    (await ledger(orderId)).map((e) => `${e.kind} ${e.outcome}`);

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    await providerDataSource.initialize();
  });
  beforeEach(async () => {
    await dataSource.query('TRUNCATE payments, provider_charges');
    provider = new ProviderSimulator(providerDataSource, { timeoutMs: TIMEOUT_MS, random: seededRandom(7) });
  });
  afterEach(async () => {
    await provider.drain(); // no late charge may outlive its test
  });
  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
    await providerDataSource.destroy();
    await dataSource.destroy();
  });

  it('authorizes, then captures: one authorization and one capture at the provider', async () => {
    const command = order(4_250);
    const authorized = await authorize(command);
    expect(authorized).toEqual({ ok: true, paymentId: expect.any(String), amount: eur(4_250) });
    const captured = await capture(command.orderId);
    expect(captured).toEqual(authorized);
    await expect(capture(command.orderId)).resolves.toEqual(authorized); // a repeated capture
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED', 'CAPTURE APPROVED']);
    expect(await payment(command.orderId)).toMatchObject({ status: 'CAPTURED', amount_minor: '4250' });
  });

  it('declines, and the decline is the answer for good', async () => {
    const command = order();
    provider.setFaults({ declineRate: 1 });
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    provider.setFaults({ declineRate: 0 });
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE DECLINED']);
    expect(await payment(command.orderId)).toMatchObject({ status: 'DECLINED' });
    await expect(capture(command.orderId)).rejects.toMatchObject({
      code: 'PAYMENT_NOT_CAPTURABLE',
      retriable: false,
    });
  });

  it('is idempotent per order: a repeated command gets the same payment and charges once', async () => {
    const command = order();
    const first = await authorize(command);
    await expect(authorize(command)).resolves.toEqual(first);
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED']);
    // The same order with another amount is a bug upstream, not a second payment.
    await expect(authorize({ ...command, amount: eur(1) })).rejects.toMatchObject({
      code: 'PAYMENT_MISMATCH',
      retriable: false,
    });
  });

  it('charged but the response was lost: the retry finds the charge instead of charging again', async () => {
    const command = order(1_999);
    provider.setFaults({ lostResponseRate: 1 });
    await expect(authorize(command)).rejects.toMatchObject({
      code: 'PROVIDER_RESPONSE_LOST',
      retriable: true,
    });
    // The provider's charge survived the rollback of the service's transaction.
    const [charge] = await ledger(command.orderId);
    expect(charge).toMatchObject({ kind: 'AUTHORIZE', outcome: 'APPROVED', amount_minor: '1999' });
    expect(await payment(command.orderId)).toBeUndefined();

    provider.setFaults({ lostResponseRate: 0 });
    await expect(authorize(command)).resolves.toMatchObject({ ok: true, amount: eur(1_999) });
    expect(await ledger(command.orderId)).toEqual([charge]);
    expect(await payment(command.orderId)).toMatchObject({
      status: 'AUTHORIZED',
      provider_ref: charge?.provider_ref,
    });
  });

  it('a timeout, then the retry: one charge, whether the late charge lands before or after the retry', async () => {
    const retriedAtOnce = order();
    const retriedLater = order();
    provider.setFaults({ timeoutRate: 1 });
    for (const command of [retriedAtOnce, retriedLater])
      await expect(authorize(command)).rejects.toMatchObject({ code: 'PROVIDER_TIMEOUT', retriable: true });
    provider.setFaults({ timeoutRate: 0 });

    // The timed-out call lands at twice the timeout; this retry comes right away, before it.
    await expect(authorize(retriedAtOnce)).resolves.toMatchObject({ ok: true });
    await provider.drain();
    // The provider acted on the timed-out call although nobody heard back.
    expect(await kindsOf(retriedLater.orderId)).toEqual(['AUTHORIZE APPROVED']);
    expect(await payment(retriedLater.orderId)).toBeUndefined();
    await expect(authorize(retriedLater)).resolves.toMatchObject({ ok: true });

    for (const command of [retriedAtOnce, retriedLater]) {
      const entries = await ledger(command.orderId);
      expect(entries.map((e) => `${e.kind} ${e.outcome}`)).toEqual(['AUTHORIZE APPROVED']);
      expect((await payment(command.orderId))?.provider_ref).toBe(entries[0]?.provider_ref);
    }
  });

  it('voids an authorization once, however often the void is delivered', async () => {
    const command = order();
    await authorize(command);
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'VOIDED' });
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);
    expect(await payment(command.orderId)).toMatchObject({ status: 'VOIDED' });
    // Compensated: neither a capture nor a repeated authorization charges any more.
    await expect(capture(command.orderId)).rejects.toMatchObject({ code: 'PAYMENT_NOT_CAPTURABLE' });
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    expect(await ledger(command.orderId)).toHaveLength(2);
  });

  it('refunds a capture, once', async () => {
    const command = order(7_000);
    await authorize(command);
    await capture(command.orderId);
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'REFUNDED' });
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });
    const entries = await ledger(command.orderId);
    expect(entries.map((e) => [e.kind, e.outcome, e.amount_minor])).toEqual([
      ['AUTHORIZE', 'APPROVED', '7000'],
      ['CAPTURE', 'APPROVED', '7000'],
      ['REFUND', 'APPROVED', '7000'],
    ]);
    expect(await payment(command.orderId)).toMatchObject({ status: 'REFUNDED' });
  });

  it('a void that came first keeps a late authorization from charging', async () => {
    const command = order();
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });
    expect(await payment(command.orderId)).toMatchObject({ status: 'VOIDED', amount_minor: null });
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    expect(await ledger(command.orderId)).toEqual([]);
  });

  it('a void after a lost authorization response finds the orphaned authorization and voids it', async () => {
    const command = order(3_100);
    provider.setFaults({ lostResponseRate: 1 });
    await expect(authorize(command)).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    provider.setFaults({ lostResponseRate: 0 });
    // The saga gave up on the authorization and compensates.
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'VOIDED' });
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);
    expect(await payment(command.orderId)).toMatchObject({ status: 'VOIDED', amount_minor: '3100' });
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    expect(await ledger(command.orderId)).toHaveLength(2);
  });

  it('a capture done at the provider but whose response was lost, then a void: refunded, not refused', async () => {
    const command = order(5_400);
    await authorize(command);
    provider.setFaults({ lostResponseRate: 1 });
    await expect(capture(command.orderId)).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    provider.setFaults({ lostResponseRate: 0 });
    // The provider captured; the service still says AUTHORIZED, and the saga gave up on the capture.
    expect(await payment(command.orderId)).toMatchObject({ status: 'AUTHORIZED' });
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED', 'CAPTURE APPROVED']);
    // The compensation asks the provider about the capture and refunds it (a void would be refused for
    // good: a dead letter, with the money still taken).
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'REFUNDED' });
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });
    const entries = await ledger(command.orderId);
    expect(entries.map((e) => [e.kind, e.outcome, e.amount_minor])).toEqual([
      ['AUTHORIZE', 'APPROVED', '5400'],
      ['CAPTURE', 'APPROVED', '5400'],
      ['REFUND', 'APPROVED', '5400'],
    ]);
    expect(await payment(command.orderId)).toMatchObject({ status: 'REFUNDED' });
  });

  it('a capture that timed out, then a void: whichever the provider acts on first, nothing stays taken', async () => {
    // Voided first: the capture lands later and the provider refuses it.
    const voidedFirst = order(800);
    await authorize(voidedFirst);
    provider.setFaults({ timeoutRate: 1 });
    await expect(capture(voidedFirst.orderId)).rejects.toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    provider.setFaults({ timeoutRate: 0 });
    await expect(voidIt(voidedFirst.orderId)).resolves.toEqual({ outcome: 'VOIDED' });
    await provider.drain();
    expect(await kindsOf(voidedFirst.orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);

    // Captured first: the late capture landed before the compensation asked, which refunds it.
    const capturedFirst = order(900);
    await authorize(capturedFirst);
    provider.setFaults({ timeoutRate: 1 });
    await expect(capture(capturedFirst.orderId)).rejects.toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    provider.setFaults({ timeoutRate: 0 });
    await provider.drain();
    await expect(voidIt(capturedFirst.orderId)).resolves.toEqual({ outcome: 'REFUNDED' });
    expect(await kindsOf(capturedFirst.orderId)).toEqual([
      'AUTHORIZE APPROVED',
      'CAPTURE APPROVED',
      'REFUND APPROVED',
    ]);
  });

  it('a capture landing between the question and the void: the refused void is followed by a refund', async () => {
    const command = order(1_200);
    await authorize(command);
    const authorization = (await ledger(command.orderId))[0];
    // The provider acts on a late capture right after the compensation asked about it: modelled by a
    // provider whose first look-up finds nothing, after which the capture is recorded.
    let asked = false;
    const racing: PaymentProvider = {
      authorize: (request) => provider.authorize(request),
      capture: (request) => provider.capture(request),
      voidAuthorization: (request) => provider.voidAuthorization(request),
      refund: (request) => provider.refund(request),
      find: async (key) => {
        const found = await provider.find(key);
        if (!asked) {
          asked = true;
          await provider.capture({
            idempotencyKey: `capture:${command.orderId}`,
            orderId: command.orderId,
            authorizationRef: authorization?.provider_ref ?? '',
            amount: eur(1_200),
          });
        }
        return found;
      },
    };
    await expect(
      dataSource.transaction((m) => voidOrRefundPayment(m, racing, command.orderId)),
    ).resolves.toEqual({ outcome: 'REFUNDED' });
    expect(await kindsOf(command.orderId)).toEqual([
      'AUTHORIZE APPROVED',
      'CAPTURE APPROVED',
      'REFUND APPROVED',
    ]);
    expect(await payment(command.orderId)).toMatchObject({ status: 'REFUNDED' });
  });

  it('with provider idempotency off (per-attempt keys), a retry after a lost response authorizes twice', async () => {
    const command = order(2_100);
    const unsafe = (): Promise<AuthorizeResult> =>
      dataSource.transaction((m) => authorizePayment(m, provider, command, PER_ATTEMPT_KEYS));
    provider.setFaults({ lostResponseRate: 1 });
    await expect(unsafe()).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    provider.setFaults({ lostResponseRate: 0 });
    await expect(unsafe()).resolves.toMatchObject({ ok: true, amount: eur(2_100) });
    // Two holds for one order: what the lab's invariant checker must catch.
    const entries = await ledger(command.orderId);
    expect(entries.map((e) => `${e.kind} ${e.outcome}`)).toEqual([
      'AUTHORIZE APPROVED',
      'AUTHORIZE APPROVED',
    ]);
    const recorded = await payment(command.orderId);
    expect(recorded).toMatchObject({ status: 'AUTHORIZED', provider_ref: entries[1]?.provider_ref });
    // The capture acts on the authorization the service recorded.
    await expect(
      dataSource.transaction((m) => capturePayment(m, provider, command.orderId, PER_ATTEMPT_KEYS)),
    ).resolves.toMatchObject({ ok: true });
    expect(await kindsOf(command.orderId)).toEqual([
      'AUTHORIZE APPROVED',
      'AUTHORIZE APPROVED',
      'CAPTURE APPROVED',
    ]);
  });

  it('the provider refuses a reused idempotency key and operations its ledger does not allow', async () => {
    const orderId = randomUUID();
    const auth = await provider.authorize({ idempotencyKey: `k-${orderId}`, orderId, amount: eur(500) });
    await expect(
      provider.authorize({ idempotencyKey: `k-${orderId}`, orderId, amount: eur(500) }),
    ).resolves.toEqual(auth);
    await expect(
      provider.authorize({ idempotencyKey: `k-${orderId}`, orderId, amount: eur(501) }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', retriable: false });
    const follow = { orderId, authorizationRef: auth.providerRef };
    await expect(provider.refund({ ...follow, idempotencyKey: 'r', amount: eur(500) })).rejects.toMatchObject(
      {
        code: 'PROVIDER_REJECTED',
        retriable: false,
      },
    );
    await expect(
      provider.capture({ ...follow, idempotencyKey: 'c1', amount: eur(600) }),
    ).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
    });
    await provider.voidAuthorization({ ...follow, idempotencyKey: 'v' });
    await expect(
      provider.capture({ ...follow, idempotencyKey: 'c2', amount: eur(500) }),
    ).rejects.toMatchObject({
      code: 'PROVIDER_REJECTED',
    });
    expect(await kindsOf(orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);
  });

  it('100 orders, each delivered twice at once, with random faults and retries: nobody charged twice', async () => {
    const random = seededRandom(20_240_601);
    provider = new ProviderSimulator(providerDataSource, {
      timeoutMs: TIMEOUT_MS,
      random,
      faults: { declineRate: 0.2, latencyMs: 2, timeoutRate: 0.15, lostResponseRate: 0.15 },
    });
    const orders = Array.from({ length: 100 }, (_, i) => ({
      orderId: randomUUID(),
      customerId: `customer-${i % 7}`,
      amount: eur(100 + Math.floor(random() * 100_000)),
    }));
    const failures = new Map<string, number>();
    // As the messaging layer would: redeliver on a retriable error, give up (fail the test) on anything else.
    const deliver = async (command: AuthorizeCommand): Promise<AuthorizeResult> => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          return await authorize(command);
        } catch (error: unknown) {
          if (!(error instanceof ProviderError && error.retriable) || attempt >= 25) throw error;
          failures.set(error.code, (failures.get(error.code) ?? 0) + 1);
        }
      }
    };
    const results = await Promise.all(orders.flatMap((o) => [deliver(o), deliver(o)]));
    await provider.drain();

    // The faults really happened, and both outcomes occurred.
    expect(failures.get('PROVIDER_TIMEOUT')).toBeGreaterThan(5);
    expect(failures.get('PROVIDER_RESPONSE_LOST')).toBeGreaterThan(5);
    const accepted = orders.filter((_, i) => results[2 * i]?.ok);
    expect(accepted.length).toBeGreaterThan(50);
    expect(accepted.length).toBeLessThan(orders.length);
    orders.forEach((_, i) => expect(results[2 * i + 1]).toEqual(results[2 * i])); // both deliveries agree

    const perOrder = (await dataSource.query(
      `SELECT p.order_id, p.status, p.amount_minor, p.provider_ref,
              count(c.idempotency_key)::int AS charges, min(c.outcome) AS outcome, min(c.provider_ref) AS charge_ref
         FROM payments p LEFT JOIN provider_charges c ON c.order_id = p.order_id
        GROUP BY p.order_id`,
    )) as {
      order_id: string;
      status: string;
      amount_minor: string;
      provider_ref: string;
      charges: number;
      outcome: string;
      charge_ref: string;
    }[];
    expect(perOrder).toHaveLength(orders.length);
    for (const row of perOrder) {
      expect(row.charges).toBe(1); // exactly one AUTHORIZE per order, and nothing else
      expect(row.status).toBe(row.outcome === 'APPROVED' ? 'AUTHORIZED' : 'DECLINED');
      expect(row.provider_ref).toBe(row.charge_ref);
    }

    // Money conserved: what the service holds as authorized is what the provider authorized, and what the
    // saga was told.
    const [sums] = (await dataSource.query(
      `SELECT (SELECT coalesce(sum(amount_minor), 0) FROM payments WHERE status = 'AUTHORIZED')::text AS service,
              (SELECT coalesce(sum(amount_minor), 0) FROM provider_charges
                WHERE kind = 'AUTHORIZE' AND outcome = 'APPROVED')::text AS provider,
              (SELECT count(*) FROM provider_charges)::int AS ledger_rows`,
    )) as { service: string; provider: string; ledger_rows: number }[];
    const told = accepted.reduce((sum, o) => sum + o.amount.amountMinor, 0);
    expect(sums).toEqual({ service: String(told), provider: String(told), ledger_rows: orders.length });
  }, 60_000);
});
