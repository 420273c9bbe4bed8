import { Kafka, logLevel } from 'kafkajs';
import { requireEnv } from './env';
import { uniqueName } from './names';

/** A kafkajs client for the stack's broker, with a client id of its own; only errors are logged. */
export function testKafka(prefix: string): Kafka {
  return new Kafka({
    clientId: uniqueName(prefix),
    brokers: requireEnv('KAFKA_BROKERS').split(','),
    logLevel: logLevel.ERROR,
  });
}
