import type { LoggerService } from '@nestjs/common';
import type { Money } from '@saga-lab/contracts';
import { WorkLoop } from '@saga-lab/messaging';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DataSource, EntityManager } from 'typeorm';
import type { ChargeKind, PaymentProvider, ProviderOutcome } from '../provider/payment-provider';
import { existing, insertTombstone, lockOrder, type PaymentStatus } from './payments';
import { keyFor } from './provider-keys';

/**
 * Reconciliation: the provider's ledger compared with the service's payments, and what the provider holds
 * for no live order given back.
 *
 * Commands alone cannot close every gap, because the provider acts on calls the service no longer waits
 * for. The example: an authorization times out, the saga compensates, the void finds nothing at the
 * provider and leaves a VOIDED tombstone — and then the provider acts on the timed-out call. That hold
 * belongs to no order, and no command will ever come for it. So, per order, from the provider's ledger:
 *
 * - an approved authorization with no void and no capture is voided (key `void:<order>`) when the order's
 *   payment row says VOIDED, DECLINED or REFUNDED — the saga compensated the order or was declined;
 * - an approved capture with no refund is refunded (key `refund:<order>`) when the row says the same;
 * - a row that says AUTHORIZED or CAPTURED is a live payment, settled by its saga: never touched;
 * - an approved authorization with no payment row at all is left alone for a long grace (`orphanGraceMs`).
 *   Such a row is missing while the authorize command's transaction commits, and while its saga retries an
 *   authorization whose response was lost — and a retry presents the same idempotency key, so the provider
 *   replays the authorization even after a void: the service would record AUTHORIZED on a voided
 *   authorization and the capture would fail. Past the grace (longer than the saga's authorize deadline
 *   and the command's redeliveries) it is voided and a VOIDED tombstone written in the same transaction,
 *   so a command arriving even later is declined instead of recording the voided authorization. For the
 *   same reason an authorization voided with no payment row gets its tombstone even with nothing left to
 *   void (the job's void was made but its response lost, so its transaction rolled back).
 * - Every operation must also be older than `graceMs` before it is judged, so the job never reads the
 *   ledger while a command for the order is between its provider call and its commit.
 *
 * Each order is judged again and acted on in a transaction holding the order's lock (`lockOrder`), the one
 * the commands take: a reconciliation and a command for the same order never interleave. Its provider calls
 * carry the order keys, so a call that failed (timeout, lost response) is repeated safely by the next round.
 * The provider's rules allow one void, capture and refund per order; an order with several approved
 * authorizations (made under per-attempt keys, the failure lab's unsafe mode) cannot be settled that way
 * and is reported as unresolved instead.
 */
export interface ReconcileOptions {
  /** How old a provider operation must be before it is judged. */
  readonly graceMs: number;
  /** How old an authorization with no payment row must be before it counts as orphaned. */
  readonly orphanGraceMs: number;
  /** Orders looked at per round, oldest first. */
  readonly batchSize?: number;
}

/** One operation in the provider's ledger for an order, and how long ago the provider recorded it. */
export interface LedgerEntry {
  readonly kind: ChargeKind;
  readonly outcome: ProviderOutcome;
  readonly providerRef: string;
  readonly amount: Money;
  readonly ageMs: number;
}

export type Verdict =
  | { readonly action: 'none' }
  | { readonly action: 'void'; readonly authorization: LedgerEntry }
  /** Only a VOIDED tombstone to write: the authorization has been voided, but no payment row says so. */
  | { readonly action: 'tombstone'; readonly authorization: LedgerEntry }
  | { readonly action: 'refund'; readonly authorization: LedgerEntry; readonly capture: LedgerEntry }
  | { readonly action: 'unresolved'; readonly reason: string };

const NONE: Verdict = { action: 'none' };

/**
 * The rules above, for one order: its payment row's status (undefined: no row) and its ledger entries.
 * Decides from the per-order view the provider's own rules take: a void ends the order's authorization,
 * a refund its capture.
 */
export function judge(
  recorded: PaymentStatus | undefined,
  entries: readonly LedgerEntry[],
  options: ReconcileOptions,
): Verdict {
  if (recorded === 'AUTHORIZED' || recorded === 'CAPTURED') return NONE; // live: its saga settles it
  const approved = (kind: ChargeKind): LedgerEntry[] =>
    entries.filter((e) => e.kind === kind && e.outcome === 'APPROVED');
  const authorizations = approved('AUTHORIZE');
  const [capture] = approved('CAPTURE');
  const [authorization] = authorizations;
  if (!authorization) return NONE;
  if (approved('VOID').length > 0)
    return recorded === undefined && authorization.ageMs >= options.orphanGraceMs
      ? { action: 'tombstone', authorization }
      : NONE;
  if (capture && approved('REFUND').length > 0) return NONE;
  if (authorizations.length > 1)
    return {
      action: 'unresolved',
      reason: `${authorizations.length} approved authorizations (per-attempt idempotency keys); the provider settles one per order`,
    };
  const open = capture ?? authorization;
  if (open.ageMs < options.graceMs) return NONE;
  if (recorded === undefined) {
    // A capture needs a recorded authorization, so a capture with no row means the row was lost.
    if (capture) return { action: 'unresolved', reason: 'a capture with no payment row' };
    return authorization.ageMs >= options.orphanGraceMs ? { action: 'void', authorization } : NONE;
  }
  // VOIDED, DECLINED or REFUNDED: the order's payment ended, and nothing may stay held for it.
  return capture ? { action: 'refund', authorization, capture } : { action: 'void', authorization };
}

export interface ReconcileAction {
  /** `tombstone`: no provider call, only the VOIDED row an already voided authorization lacked. */
  readonly action: 'void' | 'refund' | 'tombstone';
  readonly orderId: string;
  /** The voided authorization's or the refunded capture's ref. */
  readonly providerRef: string;
  readonly amount: Money;
  /** The payment row's status when the job acted; undefined when there was none (a tombstone was written). */
  readonly recorded: PaymentStatus | undefined;
}

export interface ReconcileReport {
  readonly actions: readonly ReconcileAction[];
  readonly unresolved: readonly { readonly orderId: string; readonly reason: string }[];
  readonly failures: readonly { readonly orderId: string; readonly error: unknown }[];
  /** Whether the round looked at a full batch (more candidates may be waiting). */
  readonly full: boolean;
}

interface LedgerRow {
  kind: ChargeKind;
  outcome: ProviderOutcome;
  provider_ref: string;
  amount_minor: string; // bigint arrives as a string
  currency: string;
  age_ms: number;
}

// `provider_charges` stands for the provider's report of its operations: the simulator keeps its ledger in
// this database, so the comparison is a query. Ages come from the database's clock, the one that stamped
// the entries.
async function ledgerOf(manager: EntityManager, orderId: string): Promise<LedgerEntry[]> {
  const rows = (await manager.query(
    `SELECT kind, outcome, provider_ref, amount_minor, currency,
            (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8 AS age_ms
       FROM provider_charges WHERE order_id = $1 ORDER BY created_at`,
    [orderId],
  )) as LedgerRow[];
  return rows.map((row) => ({
    kind: row.kind,
    outcome: row.outcome,
    providerRef: row.provider_ref,
    amount: { amountMinor: Number(row.amount_minor), currency: row.currency },
    ageMs: row.age_ms,
  }));
}

/**
 * Orders that may need reconciling, past the grace: an approved authorization with no void or capture, or
 * an approved capture with no refund, whose payment row is finished; any approved authorization whose
 * payment row is long missing. A coarse filter (it ignores, say, several authorizations); `judge` decides
 * under the order's lock.
 */
async function candidates(dataSource: DataSource, options: ReconcileOptions): Promise<string[]> {
  const rows = (await dataSource.query(
    `SELECT c.order_id
       FROM provider_charges c LEFT JOIN payments p ON p.order_id = c.order_id
      WHERE c.outcome = 'APPROVED'
        AND c.created_at <= clock_timestamp() - $1 * interval '1 millisecond'
        AND (
          (p.order_id IS NULL AND c.kind = 'AUTHORIZE'
            AND c.created_at <= clock_timestamp() - $2 * interval '1 millisecond')
          OR (p.status IN ('VOIDED', 'DECLINED', 'REFUNDED')
            AND CASE c.kind
                  WHEN 'AUTHORIZE' THEN NOT EXISTS (
                    SELECT 1 FROM provider_charges f
                     WHERE f.order_id = c.order_id AND f.outcome = 'APPROVED' AND f.kind IN ('VOID', 'CAPTURE'))
                  WHEN 'CAPTURE' THEN NOT EXISTS (
                    SELECT 1 FROM provider_charges f
                     WHERE f.order_id = c.order_id AND f.outcome = 'APPROVED' AND f.kind = 'REFUND')
                  ELSE false
                END))
      GROUP BY c.order_id
      ORDER BY min(c.created_at)
      LIMIT $3`,
    [options.graceMs, options.orphanGraceMs, options.batchSize ?? DEFAULT_BATCH],
  )) as { order_id: string }[];
  return rows.map((row) => row.order_id);
}

const DEFAULT_BATCH = 500;

/** Judges one order again under its lock and acts on the verdict, in the caller's transaction. */
export async function reconcileOrder(
  manager: EntityManager,
  provider: PaymentProvider,
  orderId: string,
  options: ReconcileOptions,
): Promise<ReconcileAction | { readonly unresolved: string } | undefined> {
  await lockOrder(manager, orderId);
  const row = await existing(manager, orderId);
  const verdict = judge(row?.status, await ledgerOf(manager, orderId), options);
  switch (verdict.action) {
    case 'none':
      return undefined;
    case 'unresolved':
      return { unresolved: verdict.reason };
    case 'tombstone': {
      const { authorization } = verdict;
      await insertTombstone(manager, orderId, authorization);
      return {
        action: 'tombstone',
        orderId,
        providerRef: authorization.providerRef,
        amount: authorization.amount,
        recorded: undefined,
      };
    }
    case 'void': {
      const { authorization } = verdict;
      await provider.voidAuthorization({
        idempotencyKey: keyFor('void', orderId),
        orderId,
        authorizationRef: authorization.providerRef,
      });
      if (!row) await insertTombstone(manager, orderId, authorization);
      // A tombstone written before the authorization landed names no authorization yet; now it does.
      // Other rows keep what they say (a DECLINED row stays declined).
      else
        await manager.query(
          `UPDATE payments SET provider_ref = $2, amount_minor = $3, currency = $4, updated_at = now()
            WHERE order_id = $1 AND provider_ref IS NULL AND amount_minor IS NULL`,
          [
            orderId,
            authorization.providerRef,
            authorization.amount.amountMinor,
            authorization.amount.currency,
          ],
        );
      return {
        action: 'void',
        orderId,
        providerRef: authorization.providerRef,
        amount: authorization.amount,
        recorded: row?.status,
      };
    }
    case 'refund': {
      const { authorization, capture } = verdict;
      await provider.refund({
        idempotencyKey: keyFor('refund', orderId),
        orderId,
        authorizationRef: authorization.providerRef,
        amount: capture.amount,
      });
      // REFUNDED where the row can say it; a tombstone (no customer) stays VOIDED: given back either way.
      await manager.query(
        `UPDATE payments
            SET status = CASE WHEN customer_id IS NULL THEN status ELSE 'REFUNDED' END,
                provider_ref = coalesce(provider_ref, $2),
                amount_minor = coalesce(amount_minor, $3), currency = coalesce(currency, $4),
                updated_at = now()
          WHERE order_id = $1`,
        [orderId, authorization.providerRef, capture.amount.amountMinor, capture.amount.currency],
      );
      return {
        action: 'refund',
        orderId,
        providerRef: capture.providerRef,
        amount: capture.amount,
        recorded: row?.status,
      };
    }
  }
}

/**
 * One reconciliation round: every candidate order in a transaction of its own, so one order's failure (a
 * provider timeout) neither undoes nor stops the others; it is tried again next round.
 */
export async function reconcileOnce(
  dataSource: DataSource,
  provider: PaymentProvider,
  options: ReconcileOptions,
): Promise<ReconcileReport> {
  const orderIds = await candidates(dataSource, options);
  const actions: ReconcileAction[] = [];
  const unresolved: { orderId: string; reason: string }[] = [];
  const failures: { orderId: string; error: unknown }[] = [];
  for (const orderId of orderIds) {
    try {
      const outcome = await dataSource.transaction((manager) =>
        reconcileOrder(manager, provider, orderId, options),
      );
      if (outcome && 'unresolved' in outcome) unresolved.push({ orderId, reason: outcome.unresolved });
      else if (outcome) actions.push(outcome);
    } catch (error) {
      failures.push({ orderId, error });
    }
  }
  return { actions, unresolved, failures, full: orderIds.length >= (options.batchSize ?? DEFAULT_BATCH) };
}

export interface ReconciliationMetrics {
  readonly actions: Counter<'action'>;
  readonly unresolved: Gauge;
}

/** The job's metrics: what it gave back, and how many orders it found but could not settle. */
export function registerReconciliationMetrics(registry: Registry): ReconciliationMetrics {
  const actions = new Counter({
    name: 'saga_lab_reconciliation_actions_total',
    help: 'What the payment reconciliation did: voided an orphaned authorization, refunded an orphaned capture, or wrote the tombstone of a voided one',
    labelNames: ['action'] as const,
    registers: [registry],
  });
  for (const action of ['void', 'refund', 'tombstone']) actions.inc({ action }, 0); // every series from the start
  const unresolved = new Gauge({
    name: 'saga_lab_reconciliation_unresolved_orders',
    help: 'Orders the last reconciliation round found held at the provider but could not settle by its rules',
    registers: [registry],
  });
  return { actions, unresolved };
}

export interface ReconcilerOptions extends ReconcileOptions {
  /** Pause between rounds. */
  readonly intervalMs: number;
  readonly logger: LoggerService;
  readonly metrics?: ReconciliationMetrics;
}

const describeAction = (a: ReconcileAction): string => {
  const what = {
    void: 'voided authorization',
    refund: 'refunded capture',
    tombstone: 'wrote the tombstone of voided authorization',
  }[a.action];
  const row = a.recorded ?? (a.action === 'tombstone' ? 'missing' : 'missing, VOIDED tombstone written');
  return `${what} ${a.providerRef} of order ${a.orderId} (${a.amount.amountMinor} ${a.amount.currency}; payment ${row})`;
};

/**
 * The reconciliation job: a round every interval (at once again while a full batch was acted on), in a
 * WorkLoop, so `stop()` returns once the round in flight committed. Every action is logged and counted.
 */
export class PaymentReconciler {
  private readonly loop: WorkLoop;
  // Unresolved orders come back every round; each is logged once (the gauge keeps counting them).
  private readonly reported = new Set<string>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly provider: PaymentProvider,
    private readonly options: ReconcilerOptions,
  ) {
    this.loop = new WorkLoop(() => this.round(), {
      pauseMs: (more) => (more ? 0 : options.intervalMs),
      failurePauseMs: options.intervalMs,
      onError: (error) => options.logger.warn(`reconciliation: ${String(error)}`),
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One round, logged and counted; true when it acted on a full batch (so the next one starts at once). */
  async round(): Promise<boolean> {
    const { logger, metrics } = this.options;
    const report = await reconcileOnce(this.dataSource, this.provider, this.options);
    for (const action of report.actions) {
      logger.warn(`reconciliation: ${describeAction(action)}`);
      metrics?.actions.inc({ action: action.action });
    }
    for (const { orderId, reason } of report.unresolved) {
      if (this.reported.has(orderId)) continue;
      if (this.reported.size >= 10_000) this.reported.clear();
      this.reported.add(orderId);
      logger.warn(
        `reconciliation: order ${orderId} is held at the provider and cannot be settled: ${reason}`,
      );
    }
    metrics?.unresolved.set(report.unresolved.length);
    for (const { orderId, error } of report.failures)
      logger.warn(`reconciliation: order ${orderId}: ${String(error)} (tried again next round)`);
    return report.full && report.actions.length > 0;
  }
}
