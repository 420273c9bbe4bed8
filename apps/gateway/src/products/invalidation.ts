import { HEADERS, ProductUpdated, TOPICS, parseEnvelope } from '@saga-lab/contracts';
import { contractTopics, ensureTopics } from '@saga-lab/messaging';
import type { Consumer, Kafka } from 'kafkajs';
import type { ProductCache } from './product-cache';

/**
 * Event-driven invalidation: every gateway instance reads inventory's events with a consumer group of its
 * own (each must drop its own in-process copies), from the end of the topic — history says nothing about
 * what this process cached. A message it cannot read is skipped and logged: invalidation is best-effort
 * on top of the TTL, which bounds how stale a copy can get anyway.
 */
export class ProductInvalidation {
  private readonly consumer: Consumer;

  constructor(
    private readonly kafka: Kafka,
    instanceId: string,
    private readonly cache: ProductCache,
    private readonly log: (message: string) => void,
  ) {
    this.consumer = kafka.consumer({
      groupId: `gateway-cache-${instanceId}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
    });
  }

  /** Resolves once the consumer has joined its group and will see every event published from now on. */
  async start(timeoutMs = 30_000): Promise<void> {
    // Cold start: the gateway may boot before any service created the topic, or before it has leaders.
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(admin, contractTopics([TOPICS.inventoryEvents]), { timeoutMs });
    } finally {
      await admin.disconnect();
    }
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: TOPICS.inventoryEvents, fromBeginning: false });
    const joined = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`did not join a consumer group within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        if (message.headers?.[HEADERS.messageType]?.toString() !== ProductUpdated.type) return;
        try {
          const envelope = parseEnvelope(ProductUpdated, JSON.parse(message.value?.toString() ?? ''));
          await this.cache.invalidate(envelope.payload);
        } catch (error) {
          this.log(`product invalidation skipped a message at offset ${message.offset}: ${String(error)}`);
        }
      },
    });
    await joined;
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}
