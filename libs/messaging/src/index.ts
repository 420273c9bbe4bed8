import { InboxRecord } from './inbox/inbox.entity';
import { MessagingTables1732300000000 } from './migrations/1732300000000-messaging-tables';
import { OutboxMessage } from './outbox/outbox.entity';

export { InboxRecord, MessagingTables1732300000000, OutboxMessage };
export { processOnce } from './inbox/inbox';
export { enqueue, type OutboxWrite } from './outbox/outbox';
export { OutboxRelay, type RelayOptions } from './outbox/relay';
export { ensureTopics } from './topics';

/** What a service adds to its TypeORM data source to use the outbox and the inbox. */
export const messagingEntities = [OutboxMessage, InboxRecord];
export const messagingMigrations = [MessagingTables1732300000000];
