import { HEADERS, deadLetterTopic, retryTopic } from '@saga-lab/contracts';
import type { Consumer, IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_RETRY, isRetriable, retryDelayMs, type RetryPolicy } from './retry-policy';

/** What a handler gets besides the parsed message. */
export interface Delivery {
  readonly topic: string;
  /** The topic the message was first published to (differs from `topic` on the retry topic). */
  readonly originalTopic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** 1 for the first delivery, 2 for the first retry, … */
  readonly attempt: number;
}

export type MessageHandler = (message: unknown, delivery: Delivery) => Promise<void>;

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly handler: MessageHandler;
  readonly retry?: RetryPolicy;
  /** Partitions processed at once (back-pressure); messages of one partition are always handled in order. */
  readonly concurrency?: number;
  /**
   * Where a new group starts: at the beginning (default: a service must not miss commands sent before
   * its first start) or at the end (tests on shared topics).
   */
  readonly fromBeginning?: boolean;
  readonly onFailure?: (event: {
    readonly delivery: Delivery;
    readonly error: unknown;
    readonly routedTo: 'retry' | 'dlq';
  }) => void;
}

export function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return out;
}

const reasonOf = (error: unknown): string =>
  (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 1_000);

/**
 * A Kafka consumer with the delivery semantics the services rely on:
 * - offsets are committed only after the handler finished (at-least-once; handlers are idempotent);
 * - a failing message never blocks its partition: a retriable failure is re-published to the group's
 *   retry topic with a not-before time (exponential backoff, full jitter), anything else — or a message
 *   out of attempts — goes to the group's DLQ with the reason and its original headers;
 * - partitions are processed concurrently up to `concurrency`, each one in order;
 * - `stop()` stops fetching, lets the message in flight finish and commit, then disconnects.
 */
export class MessageConsumer {
  private readonly consumer: Consumer;
  private readonly retry: RetryPolicy;
  private readonly retryTopicName: string;
  private readonly dlqTopicName: string;

  constructor(
    kafka: Kafka,
    private readonly producer: Producer,
    private readonly options: ConsumerOptions,
  ) {
    // A member that died is noticed after sessionTimeout; 10 s (kafkajs: 30 s) moves its partitions sooner.
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      sessionTimeout: 10_000,
      heartbeatInterval: 3_000,
    });
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.retryTopicName = retryTopic(options.groupId);
    this.dlqTopicName = deadLetterTopic(options.groupId);
  }

  /** Every topic the group reads: the ones it was given and its retry topic. */
  get subscribedTopics(): readonly string[] {
    return [...this.options.topics, this.retryTopicName];
  }

  /** The group's own topics (retry, DLQ), which must exist before `start`. */
  get ownTopics(): readonly string[] {
    return [this.retryTopicName, this.dlqTopicName];
  }

  private markJoined: () => void = () => undefined;
  /** Resolves once this member first joined its group (its partitions are assigned and consuming). */
  readonly joined: Promise<void> = new Promise((resolve) => (this.markJoined = resolve));

  async start(): Promise<void> {
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => this.markJoined());
    await this.consumer.connect();
    await this.consumer.subscribe({
      topics: [...this.options.topics, this.retryTopicName],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.concurrency ?? 3,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) return;
          await this.deliver(batch.topic, batch.partition, message, heartbeat);
          resolveOffset(message.offset);
          await this.consumer.commitOffsets([
            {
              topic: batch.topic,
              partition: batch.partition,
              offset: (BigInt(message.offset) + 1n).toString(),
            },
          ]);
          await heartbeat();
        }
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
    await this.consumer.disconnect();
  }

  private async deliver(
    topic: string,
    partition: number,
    message: KafkaMessage,
    heartbeat: () => Promise<void>,
  ): Promise<void> {
    const headers = headersOf(message.headers);
    const delivery: Delivery = {
      topic,
      originalTopic: headers[HEADERS.originalTopic] ?? topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString() : null,
      headers,
      attempt: Number(headers[HEADERS.attempt] ?? '1'),
    };
    if (topic === this.retryTopicName)
      await this.waitUntil(Number(headers[HEADERS.notBefore] ?? 0), heartbeat);

    let parsed: unknown;
    try {
      parsed = JSON.parse(message.value?.toString() ?? '');
    } catch (error) {
      await this.deadLetter(message, delivery, `unparseable message: ${reasonOf(error)}`);
      this.options.onFailure?.({ delivery, error, routedTo: 'dlq' });
      return;
    }
    try {
      await this.whileHeartbeating(() => this.options.handler(parsed, delivery), heartbeat);
    } catch (error) {
      if (isRetriable(error) && delivery.attempt < this.retry.maxAttempts) {
        await this.retryLater(message, delivery);
        this.options.onFailure?.({ delivery, error, routedTo: 'retry' });
      } else {
        await this.deadLetter(message, delivery, reasonOf(error));
        this.options.onFailure?.({ delivery, error, routedTo: 'dlq' });
      }
    }
  }

  /**
   * Runs a handler while heartbeating. kafkajs heartbeats only when told to, between messages here, so a
   * handler slower than the session timeout (a payment provider call may take its whole timeout, and
   * compensation makes two) would get this member evicted mid-message: its partitions reassigned, the
   * message handled again elsewhere, and under a slow provider the group rebalancing over and over.
   * `heartbeat()` is throttled by kafkajs to the heartbeat interval, so asking every second is cheap.
   */
  private async whileHeartbeating<T>(work: () => Promise<T>, heartbeat: () => Promise<void>): Promise<T> {
    const timer = setInterval(() => {
      // A failed heartbeat (a rebalance began) is the next commit's to report: it fails and the message
      // is handled again by whoever owns the partition then (the inbox makes that harmless).
      heartbeat().catch(() => undefined);
    }, 1_000);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  /** Sleeps until `notBefore`, heartbeating so the group does not consider this member dead. */
  private async waitUntil(notBefore: number, heartbeat: () => Promise<void>): Promise<void> {
    for (let wait = notBefore - Date.now(); wait > 0; wait = notBefore - Date.now()) {
      await sleep(Math.min(wait, 1_000));
      await heartbeat();
    }
  }

  private retryLater(message: KafkaMessage, delivery: Delivery): Promise<void> {
    const attempt = delivery.attempt + 1;
    return this.republish(this.retryTopicName, message, delivery, {
      [HEADERS.attempt]: String(attempt),
      [HEADERS.notBefore]: String(Date.now() + retryDelayMs(this.retry, attempt)),
    });
  }

  private deadLetter(message: KafkaMessage, delivery: Delivery, reason: string): Promise<void> {
    return this.republish(this.dlqTopicName, message, delivery, {
      [HEADERS.attempt]: String(delivery.attempt),
      [HEADERS.failureReason]: reason,
    });
  }

  /** Same key and bytes, original headers kept, plus where it came from and what happened. */
  private async republish(
    topic: string,
    message: KafkaMessage,
    delivery: Delivery,
    headers: Record<string, string>,
  ): Promise<void> {
    await this.producer.send({
      topic,
      acks: -1,
      messages: [
        {
          key: message.key,
          value: message.value,
          headers: { ...delivery.headers, [HEADERS.originalTopic]: delivery.originalTopic, ...headers },
        },
      ],
    });
  }
}
