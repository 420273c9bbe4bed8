import { loadConfig } from './config';
import { startInventoryService } from './service';

async function main(): Promise<void> {
  const service = await startInventoryService(loadConfig());
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stdout.write(
      `${JSON.stringify({ level: 'log', context: 'inventory', message: `${signal}: draining` })}\n`,
    );
    service.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`inventory: shutdown failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`inventory: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
