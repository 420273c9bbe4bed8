/**
 * Progress for steps that can take a while (downloads, builds, health waits). On a terminal the elapsed
 * time ticks in place; elsewhere (CI logs) a line is printed every 15 s so a slow step is never silent.
 */
export interface Reporter {
  info(line: string): void;
  step<T>(label: string, work: () => Promise<T>): Promise<T>;
}

export function consoleReporter(out: NodeJS.WriteStream = process.stderr): Reporter {
  const tty = out.isTTY === true;
  return {
    info: (line) => out.write(`${line}\n`),
    async step(label, work) {
      const started = Date.now();
      const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)}s`;
      if (!tty) out.write(`… ${label}\n`);
      const timer = setInterval(
        () => {
          if (tty) out.write(`\r… ${label} (${elapsed()})`);
          else out.write(`  still ${label} (${elapsed()})\n`);
        },
        tty ? 500 : 15_000,
      );
      try {
        const result = await work();
        out.write(`${tty ? '\r\x1b[2K' : ''}✓ ${label} (${elapsed()})\n`);
        return result;
      } catch (error) {
        out.write(`${tty ? '\r\x1b[2K' : ''}✗ ${label} (${elapsed()})\n`);
        throw error;
      } finally {
        clearInterval(timer);
      }
    },
  };
}

/** A reporter that records lines instead of printing them (for tests and quiet callers). */
export function silentReporter(lines: string[] = []): Reporter {
  return {
    info: (line) => void lines.push(line),
    step: async (label, work) => {
      lines.push(label);
      return work();
    },
  };
}
