import 'reflect-metadata';
import type { LoggerService } from '@nestjs/common';
import type { Money } from '@saga-lab/contracts';
import { seriesValue } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { Registry } from 'prom-client';
import { paymentSchema } from './payment-schema';
import {
  authorizePayment,
  capturePayment,
  voidOrRefundPayment,
  type AuthorizeCommand,
  type AuthorizeResult,
} from '../src/domain/payments';
import { PER_ATTEMPT_KEYS } from '../src/domain/provider-keys';
import {
  PaymentReconciler,
  reconcileOnce,
  registerReconciliationMetrics,
  type ReconcileOptions,
} from '../src/domain/reconciliation';
import { ProviderSimulator } from '../src/provider/provider-simulator';
import { seededRandom } from '../src/provider/random';

const TIMEOUT_MS = 40;
const eur = (amountMinor: number): Money => ({ amountMinor, currency: 'EUR' });
/** No grace at all: every operation is judged at once (the rules, not the waiting, are under test). */
const AT_ONCE: ReconcileOptions = { graceMs: 0, orphanGraceMs: 0 };

describe('payment reconciliation (real PostgreSQL, provider simulator with faults)', () => {
  const { schema, connect } = paymentSchema('pay_rec');
  const dataSource = connect(6);
  const providerDataSource = connect(3); // the provider's own connections, as in the service
  let provider = new ProviderSimulator(providerDataSource, { timeoutMs: TIMEOUT_MS });

  const authorize = (command: AuthorizeCommand): Promise<AuthorizeResult> =>
    dataSource.transaction((m) => authorizePayment(m, provider, command));
  const capture = (orderId: string) => dataSource.transaction((m) => capturePayment(m, provider, orderId));
  const voidIt = (orderId: string) =>
    dataSource.transaction((m) => voidOrRefundPayment(m, provider, orderId));
  const reconcile = (options: ReconcileOptions = AT_ONCE) => reconcileOnce(dataSource, provider, options);
  const order = (amountMinor = 2_599): AuthorizeCommand => ({
    orderId: randomUUID(),
    customerId: 'customer-1',
    amount: eur(amountMinor),
  });
  const ledger = async (orderId: string) =>
    (await dataSource.query(
      'SELECT kind, outcome, amount_minor, provider_ref FROM provider_charges WHERE order_id = $1 ORDER BY created_at, kind',
      [orderId],
    )) as { kind: string; outcome: string; amount_minor: string; provider_ref: string }[];
  const kindsOf = async (orderId: string): Promise<string[]> =>
    (await ledger(orderId)).map((e) => `${e.kind} ${e.outcome}`);
  const payment = async (orderId: string) =>
    (
      (await dataSource.query(
        'SELECT status, customer_id, amount_minor, provider_ref FROM payments WHERE order_id = $1',
        [orderId],
      )) as {
        status: string;
        customer_id: string | null;
        amount_minor: string | null;
        provider_ref: string | null;
      }[]
    )[0];
  // What the provider holds: approved authorizations neither voided nor captured, captures not refunded.
  const held = async (orderId: string): Promise<string[]> => {
    const kinds = await kindsOf(orderId);
    const has = (k: string): boolean => kinds.includes(`${k} APPROVED`);
    if (has('CAPTURE')) return has('REFUND') ? [] : ['CAPTURE'];
    return has('AUTHORIZE') && !has('VOID') ? ['AUTHORIZE'] : [];
  };

  beforeAll(async () => {
    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    await providerDataSource.initialize();
  });
  beforeEach(async () => {
    await dataSource.query('TRUNCATE payments, provider_charges');
    provider = new ProviderSimulator(providerDataSource, { timeoutMs: TIMEOUT_MS, random: seededRandom(11) });
  });
  afterEach(async () => {
    await provider.drain();
  });
  afterAll(async () => {
    await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
    await providerDataSource.destroy();
    await dataSource.destroy();
  });

  /**
   * The saga's authorization times out (the provider is slow, and acts on the call later); the saga
   * compensates before the provider has acted, so the void finds nothing and leaves a tombstone; then the
   * late authorization lands: a hold that no live order owns.
   */
  const lateAuthorizationAfterTheVoid = async (): Promise<{ orderId: string; authorizationRef: string }> => {
    const command = order(3_300);
    provider.setFaults({ latencyMs: 400 }); // past the 40 ms timeout: the provider acts at 400 ms
    await expect(authorize(command)).rejects.toMatchObject({ code: 'PROVIDER_TIMEOUT' });
    provider.setFaults({ latencyMs: 0 });
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });
    expect(await payment(command.orderId)).toMatchObject({ status: 'VOIDED', provider_ref: null });
    await provider.drain(); // the late authorization lands
    // The redelivered command meets the tombstone and declines: no command path gives the hold back.
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    const [authorization] = await ledger(command.orderId);
    expect(authorization).toMatchObject({ kind: 'AUTHORIZE', outcome: 'APPROVED', amount_minor: '3300' });
    return { orderId: command.orderId, authorizationRef: authorization?.provider_ref ?? '' };
  };

  it('a late authorization after the void: without reconciliation the provider keeps holding it', async () => {
    const { orderId } = await lateAuthorizationAfterTheVoid();
    expect(await held(orderId)).toEqual(['AUTHORIZE']);
    // Within the grace, reconciliation leaves it for now.
    await expect(reconcile({ graceMs: 60_000, orphanGraceMs: 60_000 })).resolves.toMatchObject({
      actions: [],
    });
    expect(await held(orderId)).toEqual(['AUTHORIZE']);
  });

  it('a late authorization after the void: reconciliation voids it and the tombstone names it', async () => {
    const { orderId, authorizationRef } = await lateAuthorizationAfterTheVoid();
    await expect(reconcile()).resolves.toEqual({
      actions: [
        { action: 'void', orderId, providerRef: authorizationRef, amount: eur(3_300), recorded: 'VOIDED' },
      ],
      unresolved: [],
      failures: [],
      full: false,
    });
    expect(await kindsOf(orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);
    expect(await held(orderId)).toEqual([]);
    expect(await payment(orderId)).toMatchObject({
      status: 'VOIDED',
      amount_minor: '3300',
      provider_ref: authorizationRef,
    });
    // Settled: a second round and a redelivered compensation find nothing to do.
    await expect(reconcile()).resolves.toMatchObject({ actions: [] });
    await expect(voidIt(orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });
    expect(await ledger(orderId)).toHaveLength(2);
  });

  it('never touches a live payment, nor an authorization whose payment row may still be committing', async () => {
    const authorized = order(1_000);
    const captured = order(2_000);
    const unrecorded = order(3_000);
    await authorize(authorized);
    await authorize(captured);
    await capture(captured.orderId);
    // The response was lost: the provider holds the authorization, the service has no row yet (its saga
    // is still retrying the command).
    provider.setFaults({ lostResponseRate: 1 });
    await expect(authorize(unrecorded)).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    provider.setFaults({ lostResponseRate: 0 });
    const before = await Promise.all([authorized, captured, unrecorded].map((o) => ledger(o.orderId)));

    await expect(reconcile({ graceMs: 0, orphanGraceMs: 60_000 })).resolves.toMatchObject({
      actions: [],
      unresolved: [],
    });
    expect(await Promise.all([authorized, captured, unrecorded].map((o) => ledger(o.orderId)))).toEqual(
      before,
    );
    expect(await payment(unrecorded.orderId)).toBeUndefined();
    // The retry goes through and records the authorization the provider made.
    await expect(authorize(unrecorded)).resolves.toMatchObject({ ok: true });
    await expect(reconcile()).resolves.toMatchObject({ actions: [] });
    expect(await payment(authorized.orderId)).toMatchObject({ status: 'AUTHORIZED' });
    expect(await payment(captured.orderId)).toMatchObject({ status: 'CAPTURED' });
    await expect(capture(authorized.orderId)).resolves.toMatchObject({ ok: true });
  });

  it('an authorization with no payment row past the long grace: voided, and a tombstone declines the retry', async () => {
    const command = order(4_400);
    provider.setFaults({ lostResponseRate: 1 });
    await expect(authorize(command)).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    provider.setFaults({ lostResponseRate: 0 });
    const [authorization] = await ledger(command.orderId);

    await expect(reconcile({ graceMs: 0, orphanGraceMs: 0 })).resolves.toMatchObject({
      actions: [{ action: 'void', orderId: command.orderId, recorded: undefined }],
    });
    expect(await payment(command.orderId)).toMatchObject({
      status: 'VOIDED',
      customer_id: null,
      amount_minor: '4400',
      provider_ref: authorization?.provider_ref,
    });
    // Without the tombstone the retry would replay the (now voided) authorization and record it as live.
    await expect(authorize(command)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);
  });

  it('a capture held for a compensated order is refunded', async () => {
    const command = order(6_100);
    await authorize(command);
    await capture(command.orderId);
    // A captured order whose payment says it was given back while the provider still holds the capture.
    // The compensation no longer produces this (it asks about the capture first), so it is staged here.
    await dataSource.query(`UPDATE payments SET status = 'VOIDED' WHERE order_id = $1`, [command.orderId]);
    const capturedRef = (await ledger(command.orderId))[1]?.provider_ref;

    await expect(reconcile()).resolves.toMatchObject({
      actions: [{ action: 'refund', orderId: command.orderId, providerRef: capturedRef, amount: eur(6_100) }],
    });
    expect(await kindsOf(command.orderId)).toEqual([
      'AUTHORIZE APPROVED',
      'CAPTURE APPROVED',
      'REFUND APPROVED',
    ]);
    expect(await payment(command.orderId)).toMatchObject({ status: 'REFUNDED' });
    await expect(reconcile()).resolves.toMatchObject({ actions: [] });
  });

  it('several authorizations for one order (per-attempt keys) are reported as unresolved, not guessed at', async () => {
    const command = order(700);
    provider.setFaults({ lostResponseRate: 1 });
    for (let attempt = 0; attempt < 2; attempt += 1)
      await expect(
        dataSource.transaction((m) => authorizePayment(m, provider, command, PER_ATTEMPT_KEYS)),
      ).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    provider.setFaults({ lostResponseRate: 0 });
    // The compensation's look-up by the order key cannot find either.
    await expect(voidIt(command.orderId)).resolves.toEqual({ outcome: 'NOTHING_HELD' });

    const report = await reconcile();
    expect(report.actions).toEqual([]);
    expect(report.unresolved).toEqual([
      { orderId: command.orderId, reason: expect.stringContaining('2 approved authorizations') },
    ]);
    expect(await kindsOf(command.orderId)).toEqual(['AUTHORIZE APPROVED', 'AUTHORIZE APPROVED']);
  });

  it('the job logs and counts each action; a void whose response was lost still ends in a tombstone', async () => {
    const late = await lateAuthorizationAfterTheVoid();
    const unrecorded = order(500);
    provider.setFaults({ lostResponseRate: 1 });
    await expect(authorize(unrecorded)).rejects.toMatchObject({ code: 'PROVIDER_RESPONSE_LOST' });
    const registry = new Registry();
    const lines: string[] = [];
    const logger = { log: () => undefined, error: () => undefined, warn: (m: string) => lines.push(m) };
    const reconciler = new PaymentReconciler(dataSource, provider, {
      ...AT_ONCE,
      intervalMs: 1_000,
      logger: logger as LoggerService,
      metrics: registerReconciliationMetrics(registry),
    });
    const count = async (action: string) =>
      seriesValue(await registry.metrics(), 'saga_lab_reconciliation_actions_total', { action });
    expect(await count('void')).toBe(0);

    // Both voids are made, but the job does not hear back: its transactions roll back, no row changes.
    await expect(reconciler.round()).resolves.toBe(false);
    expect(lines).toEqual([
      expect.stringContaining('tried again next round'),
      expect.stringContaining('tried again next round'),
    ]);
    expect(await payment(unrecorded.orderId)).toBeUndefined();
    provider.setFaults({ lostResponseRate: 0 });
    lines.length = 0;

    // Next round: the late authorization is voided and its row says VOIDED: settled. The unrecorded one is
    // voided too, but has no row: it gets its tombstone, or a retried command would record it as live.
    await reconciler.round();
    expect(lines).toEqual([expect.stringContaining(`wrote the tombstone of voided authorization`)]);
    expect(lines[0]).toContain(unrecorded.orderId);
    expect(await count('tombstone')).toBe(1);
    await expect(authorize(unrecorded)).resolves.toEqual({ ok: false, reason: 'DECLINED' });
    for (const orderId of [late.orderId, unrecorded.orderId]) {
      expect(await kindsOf(orderId)).toEqual(['AUTHORIZE APPROVED', 'VOID APPROVED']);
      expect(await payment(orderId)).toMatchObject({ status: 'VOIDED' });
    }

    // A clean void is logged and counted once.
    const another = await lateAuthorizationAfterTheVoid();
    lines.length = 0;
    await reconciler.round();
    await reconciler.round();
    expect(lines).toEqual([expect.stringContaining(`voided authorization ${another.authorizationRef}`)]);
    expect(await count('void')).toBe(1);
    expect(await count('refund')).toBe(0);
  });
});
