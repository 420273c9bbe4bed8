/**
 * Every Kafka topic, named `<domain>.<kind>.v<N>`. No other file spells a topic name: a breaking change
 * to a topic's messages bumps its version suffix here, and both versions can run side by side.
 */
export const TOPICS = {
  inventoryCommands: 'inventory.commands.v1',
  inventoryReplies: 'inventory.replies.v1',
  inventoryEvents: 'inventory.events.v1',
  paymentCommands: 'payment.commands.v1',
  paymentReplies: 'payment.replies.v1',
  orderEvents: 'order.events.v1',
} as const;

export type TopicName = (typeof TOPICS)[keyof typeof TOPICS];

export interface TopicSpec {
  readonly partitions: number;
  readonly retentionMs: number;
}

const DAY = 24 * 60 * 60 * 1000;

/**
 * Partitions and retention, applied when the services create their topics at start-up. Messages are keyed
 * by order id (or product id), so partitions bound consumer parallelism while keeping one aggregate ordered.
 */
export const TOPIC_SPECS: Record<TopicName, TopicSpec> = {
  'inventory.commands.v1': { partitions: 6, retentionMs: 7 * DAY },
  'inventory.replies.v1': { partitions: 6, retentionMs: 7 * DAY },
  'inventory.events.v1': { partitions: 3, retentionMs: 7 * DAY },
  'payment.commands.v1': { partitions: 6, retentionMs: 7 * DAY },
  'payment.replies.v1': { partitions: 6, retentionMs: 7 * DAY },
  'order.events.v1': { partitions: 6, retentionMs: 7 * DAY },
};

/** Retry and dead-letter topics belong to a consumer group: `<group>.retry.v1`, `<group>.dlq.v1`. */
export const retryTopic = (group: string): string => `${group}.retry.v1`;
export const deadLetterTopic = (group: string): string => `${group}.dlq.v1`;

/** Kafka header names the messaging layer sets and reads. Values are strings. */
export const HEADERS = {
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  messageType: 'x-message-type',
  correlationId: 'x-correlation-id',
  /** On retry and DLQ topics: where the message came from, why it failed, how often it was tried. */
  originalTopic: 'x-original-topic',
  failureReason: 'x-failure-reason',
  attempt: 'x-attempt',
  notBefore: 'x-not-before',
} as const;
