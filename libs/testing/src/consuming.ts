import { waitUntil } from './wait';

/**
 * A consumer group that starts at the end of a shared topic fixes its position a moment after it joined.
 * Sends a probe, waits a little for it to come through, and sends another until one does: the test's own
 * messages, published after this resolves, are then all seen.
 */
export async function untilConsuming(
  sendProbe: () => Promise<string>,
  received: (probe: string) => boolean | Promise<boolean>,
  timeoutMs = 30_000,
): Promise<void> {
  await waitUntil(
    async () => {
      const probe = await sendProbe();
      return waitUntil(() => received(probe), { timeoutMs: 2_000, intervalMs: 50 }).then(
        () => true,
        () => false,
      );
    },
    { timeoutMs, intervalMs: 0, what: 'the consumer to receive a probe' },
  );
}
