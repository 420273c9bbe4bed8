import type { Money } from '@saga-lab/contracts';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DataSource, EntityManager } from 'typeorm';
import {
  ProviderError,
  ProviderRejected,
  ProviderResponseLost,
  ProviderTimeout,
  type AuthorizeRequest,
  type CaptureRequest,
  type ChargeKind,
  type PaymentProvider,
  type ProviderCharge,
  type RefundRequest,
  type VoidRequest,
} from './payment-provider';

/** Fault knobs, changeable while the simulator runs. Rates are probabilities per call (0..1). */
export interface ProviderFaults {
  /** Share of authorizations the "issuer" declines. */
  readonly declineRate: number;
  /** How long every call takes before the provider acts on it. */
  readonly latencyMs: number;
  /** Share of calls that take longer than the caller's timeout; the provider still acts on them, later. */
  readonly timeoutRate: number;
  /** Share of calls the provider acts on and records, whose response is then lost on the way back. */
  readonly lostResponseRate: number;
  /**
   * The operations the latency, timeouts and lost responses hit; empty: all of them. Lets an experiment
   * aim at one path — authorizations that land after the caller gave up, captures whose answer is lost —
   * while voids and lookups stay prompt.
   */
  readonly operations: readonly ProviderOperation[];
}

export const PROVIDER_OPERATIONS = ['authorize', 'capture', 'void', 'refund', 'find'] as const;
export type ProviderOperation = (typeof PROVIDER_OPERATIONS)[number];

export const NO_FAULTS: ProviderFaults = Object.freeze({
  declineRate: 0,
  latencyMs: 0,
  timeoutRate: 0,
  lostResponseRate: 0,
  operations: [],
});

export interface ProviderSimulatorOptions {
  /** The caller's timeout (its HTTP client's, in a real integration): a slower call fails with ProviderTimeout. */
  readonly timeoutMs?: number;
  readonly faults?: Partial<ProviderFaults>;
  /** Uniform in [0, 1). Inject a seeded one for reproducible fault runs. */
  readonly random?: () => number;
}

/** What happens to one call. */
export interface CallPlan {
  readonly declined: boolean;
  /** When the provider acts on the request, counted from the call. */
  readonly durationMs: number;
  readonly timedOut: boolean;
  readonly responseLost: boolean;
}

export function validateFaults(faults: ProviderFaults): ProviderFaults {
  for (const name of ['declineRate', 'timeoutRate', 'lostResponseRate'] as const) {
    const rate = faults[name];
    if (!Number.isFinite(rate) || rate < 0 || rate > 1)
      throw new RangeError(`${name} must be in [0, 1]: ${rate}`);
  }
  if (!Number.isFinite(faults.latencyMs) || faults.latencyMs < 0)
    throw new RangeError(`latencyMs must be a non-negative number: ${faults.latencyMs}`);
  return faults;
}

/**
 * Decides one call's faults. It always draws three numbers, in the same order, so a seeded run makes the
 * same decisions whatever the rates are set to. A slow call takes twice the caller's timeout on top of the
 * latency, so it certainly outlasts the timeout; plain latency at or above the timeout times out as well.
 */
export function planCall(
  faults: ProviderFaults,
  timeoutMs: number,
  random: () => number,
  operation?: ProviderOperation,
): CallPlan {
  const aimed = !operation || faults.operations.length === 0 || faults.operations.includes(operation);
  const declined = random() < faults.declineRate;
  const slow = random() < faults.timeoutRate && aimed;
  const lost = random() < faults.lostResponseRate && aimed;
  const durationMs = (aimed ? faults.latencyMs : 0) + (slow ? 2 * timeoutMs : 0);
  const timedOut = durationMs >= timeoutMs;
  return { declined, durationMs, timedOut, responseLost: lost && !timedOut };
}

interface LedgerRow {
  idempotency_key: string;
  provider_ref: string;
  kind: ChargeKind;
  order_id: string;
  amount_minor: string; // bigint arrives as a string
  currency: string;
  outcome: 'APPROVED' | 'DECLINED';
}

type LedgerRequest =
  | { readonly kind: 'AUTHORIZE'; readonly request: AuthorizeRequest; readonly declined: boolean }
  | { readonly kind: 'CAPTURE' | 'REFUND'; readonly request: CaptureRequest | RefundRequest }
  | { readonly kind: 'VOID'; readonly request: VoidRequest };

// Two-key advisory locks live apart from the one-key locks the service takes on its own orders.
const LOCK_SPACE = 0x50_53_49_4d;

const toCharge = (row: LedgerRow): ProviderCharge => {
  const amountMinor = Number(row.amount_minor);
  if (!Number.isSafeInteger(amountMinor)) throw new RangeError(`amount out of range: ${row.amount_minor}`);
  return {
    idempotencyKey: row.idempotency_key,
    providerRef: row.provider_ref,
    kind: row.kind,
    orderId: row.order_id,
    amount: { amountMinor, currency: row.currency },
    outcome: row.outcome,
  };
};

const sameMoney = (a: Money, b: Money): boolean =>
  a.amountMinor === b.amountMinor && a.currency === b.currency;

/**
 * An in-process payment provider with fault knobs. Its ledger (`provider_charges`) is written through its
 * own DataSource, in its own short transactions — never the caller's: like a real provider's, its effects
 * survive a rollback on the caller's side, which is exactly what makes retries dangerous without
 * idempotency keys.
 */
export class ProviderSimulator implements PaymentProvider {
  private current: ProviderFaults;
  private readonly timeoutMs: number;
  private readonly random: () => number;
  // Calls whose caller timed out but which the provider is still working on.
  private readonly inFlight = new Set<Promise<void>>();
  private readonly lateFailures: unknown[] = [];

  constructor(
    private readonly ledger: DataSource,
    options: ProviderSimulatorOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2_000;
    if (!(this.timeoutMs > 0)) throw new RangeError(`timeoutMs must be positive: ${this.timeoutMs}`);
    this.random = options.random ?? Math.random;
    this.current = validateFaults({ ...NO_FAULTS, ...options.faults });
  }

  get faults(): ProviderFaults {
    return this.current;
  }

  setFaults(changes: Partial<ProviderFaults>): void {
    this.current = Object.freeze(validateFaults({ ...this.current, ...changes }));
  }

  /** Waits for the calls that timed out to land; fails if one of them failed for a reason other than the provider's rules. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    const failures = this.lateFailures.splice(0);
    if (failures.length > 0)
      throw new AggregateError(failures, `${failures.length} timed-out provider call(s) failed later`);
  }

  authorize(request: AuthorizeRequest): Promise<ProviderCharge> {
    return this.call('authorize', `authorize ${request.idempotencyKey}`, (plan) =>
      this.record({ kind: 'AUTHORIZE', request, declined: plan.declined }),
    );
  }

  capture(request: CaptureRequest): Promise<ProviderCharge> {
    return this.call('capture', `capture ${request.idempotencyKey}`, () =>
      this.record({ kind: 'CAPTURE', request }),
    );
  }

  voidAuthorization(request: VoidRequest): Promise<ProviderCharge> {
    return this.call('void', `void ${request.idempotencyKey}`, () => this.record({ kind: 'VOID', request }));
  }

  refund(request: RefundRequest): Promise<ProviderCharge> {
    return this.call('refund', `refund ${request.idempotencyKey}`, () =>
      this.record({ kind: 'REFUND', request }),
    );
  }

  find(idempotencyKey: string): Promise<ProviderCharge | undefined> {
    return this.call('find', `find ${idempotencyKey}`, async () => {
      const row = await this.load(this.ledger.manager, idempotencyKey);
      return row && toCharge(row);
    });
  }

  private async call<T>(
    operation: ProviderOperation,
    what: string,
    act: (plan: CallPlan) => Promise<T>,
  ): Promise<T> {
    const plan = planCall(this.current, this.timeoutMs, this.random, operation);
    const acting = sleep(plan.durationMs).then(() => act(plan));
    if (plan.timedOut) {
      // The provider does not know the caller gave up: the request still takes effect, after the timeout —
      // possibly after the caller's retry, which the idempotency key then has to reconcile.
      this.track(acting);
      await sleep(this.timeoutMs);
      throw new ProviderTimeout(`${what}: no response within ${this.timeoutMs} ms`);
    }
    const result = await acting;
    if (plan.responseLost)
      throw new ProviderResponseLost(`${what}: the connection dropped before the response`);
    return result;
  }

  private track(acting: Promise<unknown>): void {
    const settled = acting.then(
      () => undefined,
      (error: unknown) => {
        // A rejection by the provider's rules is an answer nobody was waiting for, not a simulator failure.
        if (!(error instanceof ProviderError)) this.lateFailures.push(error);
      },
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }

  private async load(manager: EntityManager, idempotencyKey: string): Promise<LedgerRow | undefined> {
    const rows = (await manager.query(
      `SELECT idempotency_key, provider_ref, kind, order_id, amount_minor, currency, outcome
         FROM provider_charges WHERE idempotency_key = $1`,
      [idempotencyKey],
    )) as LedgerRow[];
    return rows[0];
  }

  private async record(entry: LedgerRequest): Promise<ProviderCharge> {
    const { request } = entry;
    return this.ledger.transaction(async (manager) => {
      // The provider's own serialisation per order, so capture, void and refund see each other.
      await manager.query('SELECT pg_advisory_xact_lock($1::int, hashtext($2))', [
        LOCK_SPACE,
        request.orderId,
      ]);
      // Idempotency key: a key seen before returns what was recorded under it, and charges nothing.
      const previous = await this.load(manager, request.idempotencyKey);
      if (previous) return this.replay(toCharge(previous), entry);

      const amount =
        entry.kind === 'AUTHORIZE' ? entry.request.amount : await this.checkFollowUp(manager, entry);
      const outcome = entry.kind === 'AUTHORIZE' && entry.declined ? 'DECLINED' : 'APPROVED';
      const providerRef = `${entry.kind.toLowerCase()}_${randomUUID()}`;
      const inserted = (await manager.query(
        `INSERT INTO provider_charges (idempotency_key, provider_ref, kind, order_id, amount_minor, currency, outcome)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (idempotency_key) DO NOTHING RETURNING idempotency_key`,
        [
          request.idempotencyKey,
          providerRef,
          entry.kind,
          request.orderId,
          amount.amountMinor,
          amount.currency,
          outcome,
        ],
      )) as unknown[];
      if (inserted.length === 0) {
        // The same key for another order got in first (the lock is per order, not per key).
        const winner = await this.load(manager, request.idempotencyKey);
        if (!winner)
          throw new Error(`idempotency key ${request.idempotencyKey} conflicted but is not recorded`);
        return this.replay(toCharge(winner), entry);
      }
      return {
        idempotencyKey: request.idempotencyKey,
        providerRef,
        kind: entry.kind,
        orderId: request.orderId,
        amount,
        outcome,
      };
    });
  }

  // A key reused for a different request is the caller's bug; answering with the old result would hide it.
  private replay(recorded: ProviderCharge, entry: LedgerRequest): ProviderCharge {
    const { request } = entry;
    const sameAmount = entry.kind === 'VOID' || sameMoney(recorded.amount, entry.request.amount);
    if (recorded.kind !== entry.kind || recorded.orderId !== request.orderId || !sameAmount)
      throw new ProviderRejected(
        'IDEMPOTENCY_KEY_REUSED',
        `idempotency key ${request.idempotencyKey} was used for a different ${recorded.kind} request`,
      );
    return recorded;
  }

  /** The provider's rules for operations on an authorization; returns the amount the operation moves. */
  private async checkFollowUp(
    manager: EntityManager,
    entry: Exclude<LedgerRequest, { kind: 'AUTHORIZE' }>,
  ): Promise<Money> {
    const { request } = entry;
    const rows = (await manager.query(
      `SELECT idempotency_key, provider_ref, kind, order_id, amount_minor, currency, outcome
         FROM provider_charges WHERE order_id = $1 AND outcome = 'APPROVED'`,
      [request.orderId],
    )) as LedgerRow[];
    const done = new Map(rows.map((r) => [r.kind, toCharge(r)]));
    // The authorization the request names. An order has one, unless its caller sent a fresh idempotency key
    // per attempt (the failure lab's unsafe mode) and each retry made another: the request then acts on the
    // one it names, deterministically. Voids, captures and refunds are still counted per order (the ledger
    // does not record which authorization they were for): one of each at most.
    const named = rows.find((r) => r.kind === 'AUTHORIZE' && r.provider_ref === request.authorizationRef);
    const authorization = named && toCharge(named);
    const reject = (why: string): never => {
      throw new ProviderRejected('PROVIDER_REJECTED', `${entry.kind} ${request.idempotencyKey}: ${why}`);
    };
    if (!authorization)
      return reject(`no approved authorization ${request.authorizationRef} for order ${request.orderId}`);
    if (done.has('VOID')) return reject('the authorization was voided');
    if (entry.kind === 'VOID') {
      if (done.has('CAPTURE')) return reject('the authorization was captured; refund it instead');
      return authorization.amount;
    }
    if (entry.kind === 'CAPTURE') {
      if (done.has('CAPTURE')) return reject('already captured');
      if (!fitsWithin(entry.request.amount, authorization.amount))
        return reject('the capture exceeds the authorization');
      return entry.request.amount;
    }
    const capture = done.get('CAPTURE');
    if (!capture) return reject('nothing was captured');
    if (done.has('REFUND')) return reject('already refunded');
    if (!fitsWithin(entry.request.amount, capture.amount)) return reject('the refund exceeds the capture');
    return entry.request.amount;
  }
}

const fitsWithin = (amount: Money, limit: Money): boolean =>
  amount.currency === limit.currency && amount.amountMinor <= limit.amountMinor;
