import { InboxRecord } from './inbox/inbox.entity';
import { MessagingTables1732300000000 } from './migrations/1732300000000-messaging-tables';
import { OutboxMessage } from './outbox/outbox.entity';

export { InboxRecord, MessagingTables1732300000000, OutboxMessage };
export { processOnce } from './inbox/inbox';
export { enqueue, metaCausedBy, type OutboxWrite } from './outbox/outbox';
export { DirectPublish, type DirectMessage, type DirectPublishOptions } from './outbox/direct-publish';
export { OutboxRelay, type RelayOptions } from './outbox/relay';
export { WorkLoop, type WorkLoopOptions } from './work-loop';
export {
  TopicsNotReady,
  contractTopics,
  ensureTopics,
  groupTopics,
  isRetriableKafkaError,
  type TopicRequest,
} from './topics';
export {
  MessageConsumer,
  headersOf,
  type ConsumerOptions,
  type Delivery,
  type MessageHandler,
} from './consumer/consumer';
export { listDeadLetters, replayDeadLetters, type DeadLetter } from './consumer/dead-letters';
export { DEFAULT_RETRY, isRetriable, retryDelayMs, type RetryPolicy } from './consumer/retry-policy';

/** What a service adds to its TypeORM data source to use the outbox and the inbox. */
export const messagingEntities = [OutboxMessage, InboxRecord];
export const messagingMigrations = [MessagingTables1732300000000];
export {
  HandlerTransaction,
  KafkaDeliveryContext,
  KafkaTransport,
  RethrowToTransport,
  transactionalInbox,
  type KafkaTransportOptions,
  type TransactionalInboxOptions,
  type UnitOfWork,
} from './nest/kafka-transport';
export { currentTraceparent, inSpanOf, withTraceContext } from './trace-context';
