import { Catch, createParamDecorator, type ExecutionContext, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { ContractViolation, messageDefinition, parseEnvelope, type EnvelopeOf } from '@saga-lab/contracts';
import type { Kafka, Producer } from 'kafkajs';
import { lastValueFrom, throwError, type Observable } from 'rxjs';
import type { DataSource, EntityManager } from 'typeorm';
import { processOnce } from '../inbox/inbox';
import { MessageConsumer, type Delivery } from '../consumer/consumer';
import type { RetryPolicy } from '../consumer/retry-policy';
import { inProcessSpan, messagingAttributes } from '../trace-context';
import { withCorrelationId } from '@saga-lab/observability';

/**
 * The context a handler can ask for with `@Ctx()`: where the message came from, which attempt this is, and
 * the transaction its effect runs in (when the transport has a unit of work).
 */
export class KafkaDeliveryContext extends BaseRpcContext<[Delivery, EntityManager | undefined]> {
  get delivery(): Delivery {
    return this.getArgByIndex(0);
  }
  get manager(): EntityManager | undefined {
    return this.getArgByIndex(1);
  }
}

/**
 * The handler's transaction: `async reserve(@Payload() command, @HandlerTransaction() manager)`. Whatever
 * the handler writes with it — its effect, its reply in the outbox — commits with the inbox record.
 */
export const HandlerTransaction = createParamDecorator(
  (_: unknown, context: ExecutionContext): EntityManager => {
    const manager = context.switchToRpc().getContext<KafkaDeliveryContext>().manager;
    if (!manager) throw new Error('@HandlerTransaction() needs a KafkaTransport with a unit of work');
    return manager;
  },
);

/**
 * Runs a handler as one unit of work: in a transaction, once per message. It wraps every handler of the
 * transport, so a handler holds only its effect.
 */
export type UnitOfWork = (
  envelope: EnvelopeOf<unknown>,
  work: (manager: EntityManager) => Promise<void>,
) => Promise<void>;

export interface TransactionalInboxOptions {
  /**
   * false — the failure lab's "inbox off" (safeguard `inbox`): no inbox check and no inbox row; the
   * handler still runs in its transaction, but every delivery of a message runs it again.
   */
  readonly deduplicate?: boolean;
}

/**
 * Pipeline behaviour: the transaction and the inbox check around every handler. A duplicate delivery
 * (same messageId, same group) finds its inbox row and the handler does not run; otherwise the inbox row,
 * the effect and the outbox rows the handler staged commit together.
 */
export const transactionalInbox = (
  dataSource: DataSource,
  consumerGroup: string,
  { deduplicate = true }: TransactionalInboxOptions = {},
): UnitOfWork =>
  deduplicate
    ? async (envelope, work) => {
        await dataSource.transaction((manager) =>
          processOnce(manager, consumerGroup, envelope.messageId, () => work(manager)),
        );
      }
    : async (_envelope, work) => {
        await dataSource.transaction((manager) => work(manager));
      };

export interface KafkaTransportOptions {
  readonly kafka: Kafka;
  readonly producer: Producer;
  readonly groupId: string;
  readonly retry?: RetryPolicy;
  readonly concurrency?: number;
  readonly fromBeginning?: boolean;
  readonly onFailure?: ConstructorParameters<typeof MessageConsumer>[2]['onFailure'];
  /** Around every handler (e.g. `transactionalInbox`); without it, handlers run bare. */
  readonly unitOfWork?: UnitOfWork;
  /** After a handler succeeded, inside its span (a log line there carries the message's trace id). */
  readonly onHandled?: (envelope: EnvelopeOf<unknown>, delivery: Delivery) => void;
}

/**
 * A NestJS transport over libs/messaging, so handlers are declared the NestJS way —
 * `@EventPattern(ReserveStock.type)` — while delivery keeps the semantics the built-in Kafka transport
 * lacks: partitions processed concurrently, offsets committed after the handler finished, retry topic
 * with backoff, DLQ with the reason, contract validation before the handler runs.
 *
 * The pattern is the message type; the topic is the one its contract names. A handler receives the
 * validated envelope.
 */
export class KafkaTransport extends Server implements CustomTransportStrategy {
  private consumer: MessageConsumer | undefined;

  constructor(private readonly options: KafkaTransportOptions) {
    super();
  }

  async listen(callback: (error?: unknown) => void): Promise<void> {
    try {
      const types = [...this.messageHandlers.keys()];
      const topics = new Set<string>();
      for (const type of types) {
        const definition = messageDefinition(type);
        if (!definition) throw new Error(`@EventPattern('${type}') names no message in libs/contracts`);
        topics.add(definition.topic);
      }
      this.consumer = new MessageConsumer(this.options.kafka, this.options.producer, {
        groupId: this.options.groupId,
        topics: [...topics],
        ...(this.options.retry ? { retry: this.options.retry } : {}),
        ...(this.options.concurrency ? { concurrency: this.options.concurrency } : {}),
        ...(this.options.fromBeginning === undefined ? {} : { fromBeginning: this.options.fromBeginning }),
        ...(this.options.onFailure ? { onFailure: this.options.onFailure } : {}),
        handler: (message, delivery) => this.dispatch(message, delivery),
      });
      await this.consumer.start();
      callback();
    } catch (error) {
      callback(error);
    }
  }

  private async dispatch(message: unknown, delivery: Delivery): Promise<void> {
    const type = (message as { type?: unknown } | null)?.type;
    const definition = typeof type === 'string' ? messageDefinition(type) : undefined;
    if (!definition) throw new ContractViolation(`unknown message type ${JSON.stringify(type)}`, []);
    const handler = this.getHandlerByPattern(definition.type);
    // Topics carry several types (a service's replies, say); a type nobody here handles is not ours.
    if (!handler) return;
    const envelope = parseEnvelope(definition, message);
    // The handler runs in the message's trace: whatever it stages in the outbox continues that trace.
    const run = async (manager?: EntityManager): Promise<void> => {
      const result = await handler(envelope, new KafkaDeliveryContext([delivery, manager]));
      await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
    };
    const { unitOfWork } = this.options;
    // The handler runs in a process span under the message's publish span: whatever it stages in the
    // outbox continues the same trace.
    const attributes = messagingAttributes({
      topic: delivery.originalTopic,
      operation: 'process',
      key: delivery.key,
      messageId: envelope.messageId,
      type: envelope.type,
      sagaId: envelope.sagaId,
      group: this.options.groupId,
      partition: delivery.partition,
      offset: delivery.offset,
    });
    // Its log lines carry the message's correlation id (and, from the span, its trace id).
    await inProcessSpan(delivery.headers, attributes, () =>
      withCorrelationId(envelope.correlationId, async () => {
        await (unitOfWork ? unitOfWork(envelope, run) : run());
        this.options.onHandled?.(envelope, delivery);
      }),
    );
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  on(): never {
    throw new Error('KafkaTransport has no event listeners');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }
}

/**
 * NestJS turns a handler's error into a generic "Internal server error" before a transport sees it. The
 * transport needs the error itself (is it `retriable`? what was the reason?), so services install this
 * filter on their microservice.
 */
@Catch()
export class RethrowToTransport implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<never> {
    return throwError(() => exception);
  }
}
