import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Results are committed next to the scenarios, one pair of files per run, so claims keep their evidence. */
export const RESULTS_DIR = path.join(__dirname, '..', 'results');

/** A figure only means something on the machine that produced it, so every result names it. */
export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
}

/** The UTC date that names a run's result files. */
export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** Writes `<prefix>.json` (the data) and `<prefix>.md` (the report, as given). */
export function writeResults(prefix: string, json: unknown, markdown: string): void {
  mkdirSync(path.dirname(prefix), { recursive: true });
  writeFileSync(`${prefix}.json`, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(`${prefix}.md`, markdown);
}
