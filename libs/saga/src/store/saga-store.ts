import { trace } from '@opentelemetry/api';
import type { EnvelopeOf } from '@saga-lab/contracts';
import { AppError } from '@saga-lab/errors';
import { currentTraceparent, inSpanOf } from '@saga-lab/messaging';
import type { DataSource, EntityManager } from 'typeorm';
import type { SagaCommand, SagaDefinition } from '../definition';
import {
  handleDeadline,
  handleReply,
  startSaga,
  systemClock,
  type Clock,
  type SagaInstance,
  type Transition,
} from '../engine';

/**
 * How a transition's commands leave: staged in the outbox inside the same transaction as the new saga
 * state (libs/messaging's `enqueue`), so state and commands commit together or not at all.
 */
export type CommandSink = (
  manager: EntityManager,
  command: SagaCommand,
  meta: { readonly correlationId: string; readonly causationId: string | null; readonly sagaId: string },
) => Promise<void>;

interface Row {
  saga_id: string;
  phase: SagaInstance<unknown>['phase'];
  state: string;
  step: number;
  data: unknown;
  deadline: Date | null;
  compensation_attempt: number;
  failure_reason: string | null;
  history: SagaInstance<unknown>['history'];
  correlation_id: string;
  traceparent: string | null;
  version: number;
}

/** Raised when another transaction changed the saga first; the caller retries with the fresh row. */
export class SagaConflict extends AppError<'SAGA_CONFLICT'> {
  constructor(sagaId: string) {
    super('SAGA_CONFLICT', `saga ${sagaId} was changed concurrently`, { retriable: true });
  }
}

export interface StoredSaga<D> {
  readonly instance: SagaInstance<D>;
  readonly correlationId: string;
  readonly version: number;
}

function fromRow<D>(row: Row): StoredSaga<D> {
  return {
    instance: {
      sagaId: row.saga_id,
      phase: row.phase,
      state: row.state,
      step: row.step,
      data: row.data as D,
      deadline: row.deadline ? new Date(row.deadline).toISOString() : null,
      compensationAttempt: row.compensation_attempt,
      failureReason: row.failure_reason,
      history: row.history,
    },
    correlationId: row.correlation_id,
    version: row.version,
  };
}

/**
 * Persists saga instances and applies the engine's transitions atomically: the new state (guarded by
 * `version`) and the commands it emits commit in one transaction.
 */
export interface SagaStoreOptions<D> {
  /** Where a transition's commands go, in its transaction (the outbox). */
  readonly send: CommandSink;
  readonly clock?: Clock;
  /** Runs in the transaction of every change (e.g. to move the order to its terminal status with it). */
  readonly onTransition?: (
    manager: EntityManager,
    instance: SagaInstance<D>,
    correlationId: string,
  ) => Promise<void>;
}

export class SagaStore<D> {
  private readonly send: CommandSink;
  private readonly clock: Clock;
  private readonly onTransition: NonNullable<SagaStoreOptions<D>['onTransition']>;

  constructor(
    private readonly definition: SagaDefinition<D>,
    options: SagaStoreOptions<D>,
  ) {
    this.send = options.send;
    this.clock = options.clock ?? systemClock;
    this.onTransition = options.onTransition ?? (async () => undefined);
  }

  /** Starts a saga inside the caller's transaction (the one that creates the order, say). */
  async start(
    manager: EntityManager,
    sagaId: string,
    data: D,
    correlationId: string,
    causationId: string | null = null,
  ): Promise<SagaInstance<D>> {
    const transition = startSaga(this.definition, sagaId, data, this.clock);
    await manager.query(
      `INSERT INTO saga_instances (saga_id, saga_type, phase, state, step, data, deadline, compensation_attempt, failure_reason, history, correlation_id, traceparent, version)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1)`,
      // The trace the saga started in: the reaper's moves continue it (see reapOverdue).
      this.columns(transition.instance, [sagaId, this.definition.name]).concat([
        correlationId,
        currentTraceparent() ?? null,
      ]),
    );
    await this.emit(manager, transition, correlationId, causationId);
    return transition.instance;
  }

  async find(manager: EntityManager, sagaId: string): Promise<StoredSaga<D> | undefined> {
    const rows = (await manager.query(`SELECT * FROM saga_instances WHERE saga_id = $1 AND saga_type = $2`, [
      sagaId,
      this.definition.name,
    ])) as Row[];
    return rows[0] ? fromRow<D>(rows[0]) : undefined;
  }

  /**
   * Applies a participant's reply inside the caller's transaction (which also holds the inbox record).
   * Returns undefined for a reply to an unknown saga.
   */
  async applyReply(manager: EntityManager, reply: EnvelopeOf<unknown>): Promise<SagaInstance<D> | undefined> {
    const sagaId = reply.sagaId;
    if (!sagaId) return undefined;
    const stored = await this.find(manager, sagaId);
    return stored ? this.applyReplyTo(manager, stored, reply) : undefined;
  }

  /** Applies a reply to a saga read earlier; throws SagaConflict if the row changed since that read. */
  async applyReplyTo(
    manager: EntityManager,
    stored: StoredSaga<D>,
    reply: EnvelopeOf<unknown>,
  ): Promise<SagaInstance<D>> {
    const transition = handleReply(this.definition, stored.instance, reply.type, reply.payload, this.clock);
    await this.save(manager, stored, transition, reply.messageId);
    return transition.instance;
  }

  /**
   * The deadline reaper: moves up to `limit` overdue sagas on (to compensation, or a compensation re-sent).
   * Rows are claimed with SKIP LOCKED, so several order-service instances can reap at once.
   */
  async reapOverdue(dataSource: DataSource, limit = 50): Promise<number> {
    return dataSource.transaction(async (manager) => {
      const rows = (await manager.query(
        `SELECT * FROM saga_instances
          WHERE saga_type = $1 AND deadline IS NOT NULL AND deadline <= $2
          ORDER BY deadline LIMIT $3 FOR UPDATE SKIP LOCKED`,
        [this.definition.name, this.clock.now(), limit],
      )) as Row[];
      for (const row of rows) {
        const stored = fromRow<D>(row);
        // A timeout-driven move belongs to the saga's trace: its compensation commands continue it.
        await inSpanOf(
          row.traceparent ?? undefined,
          'saga deadline',
          {
            'saga.id': stored.instance.sagaId,
            'order.id': stored.instance.sagaId,
            'saga.state': stored.instance.state,
          },
          () =>
            this.save(manager, stored, handleDeadline(this.definition, stored.instance, this.clock), null),
        );
      }
      return rows.length;
    });
  }

  private async save(
    manager: EntityManager,
    stored: StoredSaga<D>,
    transition: Transition<D>,
    causationId: string | null,
  ): Promise<void> {
    if (transition.instance === stored.instance && transition.commands.length === 0) return; // nothing changed
    const [, affected] = (await manager.query(
      `UPDATE saga_instances
          SET phase = $3, state = $4, step = $5, data = $6, deadline = $7, compensation_attempt = $8,
              failure_reason = $9, history = $10, version = version + 1, updated_at = now()
        WHERE saga_id = $1 AND saga_type = $2 AND version = $11
        RETURNING version`,
      this.columns(transition.instance, [stored.instance.sagaId, this.definition.name]).concat([
        stored.version,
      ]),
    )) as [unknown[], number]; // TypeORM answers an UPDATE with [rows, affected]
    if (affected === 0) throw new SagaConflict(stored.instance.sagaId);
    // The span handling this move (a reply's process span, the reaper's deadline span) says which.
    trace.getActiveSpan()?.setAttributes({
      'saga.id': stored.instance.sagaId,
      'saga.step': transition.instance.state,
      'saga.step.previous': stored.instance.state,
    });
    await this.emit(manager, transition, stored.correlationId, causationId);
    await this.onTransition(manager, transition.instance, stored.correlationId);
  }

  private columns(instance: SagaInstance<D>, head: unknown[]): unknown[] {
    return [
      ...head,
      instance.phase,
      instance.state,
      instance.step,
      JSON.stringify(instance.data),
      instance.deadline,
      instance.compensationAttempt,
      instance.failureReason,
      JSON.stringify(instance.history),
    ];
  }

  private async emit(
    manager: EntityManager,
    transition: Transition<D>,
    correlationId: string,
    causationId: string | null,
  ): Promise<void> {
    for (const command of transition.commands) {
      await this.send(manager, command, { correlationId, causationId, sagaId: transition.instance.sagaId });
    }
  }
}
