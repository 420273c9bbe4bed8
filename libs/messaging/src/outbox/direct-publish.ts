import { HEADERS } from '@saga-lab/contracts';
import type { Producer } from 'kafkajs';
import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  TransactionStartEvent,
} from 'typeorm';
import { failed, messagingAttributes, startPublishSpan } from '../trace-context';

/** A message staged while the outbox is switched off: what its outbox row would have held. */
export interface DirectMessage {
  readonly messageId: string;
  readonly topic: string;
  readonly key: string;
  readonly type: string;
  readonly sagaId?: string | undefined;
  readonly envelope: unknown;
  readonly headers: Readonly<Record<string, string>>;
}

export interface DirectPublishOptions {
  /** A publish failed after its transaction committed: these messages are gone (nothing retries them). */
  readonly onLost?: (error: unknown, messages: readonly DirectMessage[]) => void;
  /**
   * Hold committed messages in memory instead of publishing them (the relay knob off): the window between
   * the commit and the publish, held open so that a crash inside it can be made on purpose — the lab's
   * "SIGKILL between commit and publish". With the outbox the same knob leaves them in the outbox table.
   */
  readonly holdBack?: boolean;
}

/**
 * The failure lab's "outbox off" (safeguard `outbox`): the naive dual write the outbox exists to avoid.
 * What a transaction stages with `enqueue` is kept in memory with that transaction instead of being
 * written to the outbox table, published to Kafka right after the transaction commits, and dropped if it
 * rolls back. Between the commit and the publish nothing holds the messages: a crash, or a broker error
 * (reported through `onLost`, then dropped), loses messages whose state change committed.
 *
 * It is a TypeORM subscriber of the service's data source, so it sees every transaction start, commit and
 * roll back on it — savepoints included: each open (nested) transaction has a frame of staged messages; a
 * released savepoint hands its frame to the enclosing one, a rolled-back one drops it, and the outermost
 * commit publishes (the subscriber's promise is awaited by the commit, so the publish has happened when
 * `dataSource.transaction()` returns). `enqueue` finds it on the data source, so message handlers, the saga
 * store and HTTP handlers stage exactly as they do with the outbox.
 */
export class DirectPublish implements EntitySubscriberInterface {
  /** Per connection with an open transaction: one frame of staged messages per transaction level. */
  private readonly frames = new WeakMap<QueryRunner, DirectMessage[][]>();
  /** Committed, not published (holdBack): only in this process's memory. */
  private readonly held: DirectMessage[] = [];

  private constructor(
    private readonly dataSource: DataSource,
    private readonly producer: Pick<Producer, 'sendBatch'>,
    private readonly options: DirectPublishOptions,
  ) {}

  /** Switches the data source's outbox off: from now on, `enqueue` on it publishes after the commit. */
  static install(
    dataSource: DataSource,
    producer: Pick<Producer, 'sendBatch'>,
    options: DirectPublishOptions = {},
  ): DirectPublish {
    if (DirectPublish.of(dataSource))
      throw new Error('DirectPublish is installed on this data source already');
    const direct = new DirectPublish(dataSource, producer, options);
    dataSource.subscribers.push(direct);
    return direct;
  }

  /** The one installed on a data source, if its outbox is switched off. */
  static of(dataSource: DataSource): DirectPublish | undefined {
    return dataSource.subscribers.find((s): s is DirectPublish => s instanceof DirectPublish);
  }

  /** Switches the outbox back on (transactions still open publish nothing). */
  uninstall(): void {
    const index = this.dataSource.subscribers.indexOf(this);
    if (index >= 0) this.dataSource.subscribers.splice(index, 1);
  }

  /** Holds a message until the transaction on `queryRunner` commits (called by `enqueue`). */
  stage(queryRunner: QueryRunner, message: DirectMessage): void {
    const frames = this.frames.get(queryRunner) ?? [];
    if (frames.length === 0) frames.push([]); // a transaction that began before install
    this.frames.set(queryRunner, frames);
    frames[frames.length - 1]?.push(message);
  }

  afterTransactionStart({ queryRunner }: TransactionStartEvent): void {
    const frames = this.frames.get(queryRunner) ?? [];
    frames.push([]);
    this.frames.set(queryRunner, frames);
  }

  async afterTransactionCommit({ queryRunner }: TransactionCommitEvent): Promise<void> {
    const frames = this.frames.get(queryRunner);
    const committed = frames?.pop();
    if (!frames || !committed) return;
    const enclosing = frames[frames.length - 1];
    if (enclosing) {
      enclosing.push(...committed); // a savepoint released: still inside the transaction
      return;
    }
    this.frames.delete(queryRunner);
    if (committed.length === 0) return;
    if (this.options.holdBack) this.held.push(...committed);
    else await this.publish(committed);
  }

  afterTransactionRollback({ queryRunner }: TransactionRollbackEvent): void {
    const frames = this.frames.get(queryRunner);
    frames?.pop();
    if (frames?.length === 0) this.frames.delete(queryRunner);
  }

  /** One attempt, as the relay would make (acks=all, a publish span per message); never throws. */
  private async publish(messages: readonly DirectMessage[]): Promise<void> {
    const spans = messages.map((message) => ({
      message,
      ...startPublishSpan(
        message.headers,
        messagingAttributes({
          topic: message.topic,
          operation: 'publish',
          key: message.key,
          messageId: message.messageId,
          type: message.type,
          sagaId: message.sagaId,
        }),
      ),
    }));
    const byTopic = new Map<string, typeof spans>();
    for (const item of spans)
      byTopic.set(item.message.topic, [...(byTopic.get(item.message.topic) ?? []), item]);
    try {
      await this.producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, items]) => ({
          topic,
          messages: items.map(({ message, traceparent }) => ({
            key: message.key,
            value: JSON.stringify(message.envelope),
            headers: { ...message.headers, ...(traceparent ? { [HEADERS.traceparent]: traceparent } : {}) },
          })),
        })),
      });
      for (const { span } of spans) span.end();
    } catch (error) {
      for (const { span } of spans) {
        failed(span, error);
        span.end();
      }
      // The state change committed and these messages exist nowhere else: the dual write's failure.
      this.options.onLost?.(error, messages);
    }
  }
}
