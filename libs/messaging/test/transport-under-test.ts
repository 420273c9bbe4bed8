import 'reflect-metadata';
import type { INestMicroservice, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TOPICS } from '@saga-lab/contracts';
import type { Kafka, Producer } from 'kafkajs';
import {
  KafkaTransport,
  RethrowToTransport,
  contractTopics,
  ensureTopics,
  groupTopics,
  type KafkaTransportOptions,
} from '../src';

export interface TransportUnderTest {
  readonly producer: Producer;
  readonly app: INestMicroservice;
  /** Publishes raw to the inventory commands topic (valid envelopes or not). */
  publish(value: unknown, key: string): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * A NestJS microservice over KafkaTransport on the inventory commands topic, for a group of the test's
 * own that starts at the end of the shared topic. `options` adds retry policy, unit of work…
 */
export async function transportUnderTest(
  kafka: Kafka,
  module: Type<unknown>,
  groupId: string,
  options: Partial<KafkaTransportOptions> = {},
): Promise<TransportUnderTest> {
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [...contractTopics([TOPICS.inventoryCommands]), ...groupTopics(groupId)]);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const app = await NestFactory.createMicroservice(module, {
    strategy: new KafkaTransport({ fromBeginning: false, kafka, producer, groupId, ...options }),
    logger: false,
  });
  app.useGlobalFilters(new RethrowToTransport());
  await app.listen();
  return {
    producer,
    app,
    publish: (value, key) =>
      producer.send({
        topic: TOPICS.inventoryCommands,
        acks: -1,
        messages: [{ key, value: JSON.stringify(value) }],
      }),
    async close() {
      await app.close();
      await producer.disconnect();
      await admin.deleteTopics({ topics: groupTopics(groupId).map((t) => t.topic) }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}
