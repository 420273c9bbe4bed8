/**
 * `npm run dlq -- list <group>` and `npm run dlq -- replay <group> [--type T] [--message-id ID]`:
 * inspect a consumer group's dead-letter topic, and re-publish its entries to the topic they failed on
 * once the cause is fixed (each entry is replayed at most once; entries passed over by a filter are not
 * offered again).
 */
import { listDeadLetters, replayDeadLetters, type DeadLetter } from '@saga-lab/messaging';
import { kafkaBrokers } from '@saga-lab/runtime';
import { Kafka, logLevel } from 'kafkajs';

const USAGE =
  'usage: npm run dlq -- list <group> | replay <group> [--type <message type>] [--message-id <id>]';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

const line = (d: DeadLetter): string =>
  `${String(d.partition).padStart(2)}:${d.offset.padEnd(6)} ${(d.type ?? '?').padEnd(34)} ${d.messageId ?? '(unparseable)'}  attempts=${d.attempts}  ${d.reason}`;

async function main(argv: string[]): Promise<number> {
  const [command, group, ...rest] = argv;
  // The command line's own configuration, validated like a service's (npm run dlq sets it from the stack).
  const brokers = kafkaBrokers.safeParse(process.env['KAFKA_BROKERS']);
  if (!brokers.success)
    throw new Error('KAFKA_BROKERS is not a host:port list (npm run dlq sets it from the running stack)');
  if (!group || (command !== 'list' && command !== 'replay')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const kafka = new Kafka({
    clientId: 'saga-lab-dlq',
    brokers: brokers.data,
    logLevel: logLevel.ERROR,
  });
  if (command === 'list') {
    const entries = await listDeadLetters(kafka, group);
    for (const entry of entries) process.stdout.write(`${line(entry)}\n`);
    process.stdout.write(`${entries.length} dead letter(s) in ${group}.dlq.v1\n`);
    return 0;
  }
  const type = flag(rest, '--type');
  const messageId = flag(rest, '--message-id');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const replayed = await replayDeadLetters(
      kafka,
      producer,
      group,
      (d) => (!type || d.type === type) && (!messageId || d.messageId === messageId),
    );
    for (const entry of replayed) process.stdout.write(`replayed ${line(entry)}\n`);
    process.stdout.write(`${replayed.length} dead letter(s) replayed to their original topics\n`);
    return 0;
  } finally {
    await producer.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`dlq: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
