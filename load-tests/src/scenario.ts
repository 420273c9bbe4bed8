/**
 * A load scenario, declared as data so that one definition drives both the project's own generator (vegeta,
 * fed by `run.ts`) and the k6 script `npm run load -- export-k6 <scenario>` writes for users who run k6.
 *
 * Requests are templates rather than functions for the same reason: a template can be rendered per request
 * here and translated into k6's JavaScript there. Placeholders, in the URL, header values and body:
 *
 * - `{{uuid}}` — a fresh random UUID per request (idempotency keys, unique names);
 * - `{{n}}` — the request's sequence number in its attack, from 0;
 * - `{{var:NAME}}` — a value the scenario's `prepare` returned (base URL, a bearer token, a product id);
 * - `{{pick:NAME}}` — the list variable NAME (comma-separated), taken round-robin by sequence number;
 * - `{{key:NAME:K}}` — one of K keys per attack, `NAME-<n mod K>` (retries that share idempotency keys).
 */
import type { System } from '@saga-lab/stack';
import type { AttackResult } from './result';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestTemplate {
  readonly method: Method;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** One generator process: a constant arrival rate (open model) for a duration. */
export interface AttackDef {
  readonly name: string;
  /** Requests per second, offered whatever the responses (open model). */
  readonly rate: number;
  readonly durationS: number;
  readonly request: RequestTemplate;
  /** Seconds before a request counts as a timeout error (default 10). */
  readonly timeoutS?: number;
  /**
   * Most requests in flight (default: enough for 20 ms responses at the rate, at least 64); past it the
   * generator falls behind schedule, which shows as latency.
   */
  readonly maxWorkers?: number;
  /** Statuses that count as success (default: 2xx). */
  readonly okStatuses?: readonly number[];
}

/** A figure an attack's result is judged on. */
export type Metric = 'p50Ms' | 'p95Ms' | 'p99Ms' | 'maxMs' | 'errorRate' | 'achievedRate';

/** A bound that fails the run when crossed, e.g. `{ attack: 'read', metric: 'p99Ms', max: 100 }`. */
export interface Threshold {
  readonly attack: string;
  readonly metric: Metric;
  readonly max?: number;
  readonly min?: number;
}

/** Sizes: the full run (README commands) and the smoke run `npm test` does so no scenario rots. */
export type Mode = 'full' | 'smoke';

/** What the variant's preparation gives its attacks and its measurements. */
export interface Prepared {
  /** Values for `{{var:…}}` and `{{pick:…}}`. */
  readonly vars: Readonly<Record<string, string>>;
  /** Processes whose CPU per request and RSS are reported, by label (e.g. `gateway`). */
  readonly processes: Readonly<Record<string, number>>;
  /**
   * Scenario-specific findings read after the attacks (saga completion, backend calls, plans…); a failure
   * fails the run like a threshold. `measuredFrom`: when the measured attacks began (after the warm-up).
   */
  readonly findings?: (attacks: readonly AttackResult[], measuredFrom: Date) => Promise<Findings>;
  /** Labels of `processes` started to write heap snapshots on SIGUSR2 (see PrepareContext.heapDir). */
  readonly heapSnapshots?: readonly string[];
  /** Undoes what prepare did (stops extra processes, restores settings). */
  readonly cleanup?: () => Promise<void>;
}

export interface Findings {
  readonly facts: Readonly<Record<string, string | number>>;
  readonly failures?: readonly string[];
  readonly notes?: readonly string[];
}

/** One side of a comparison (e.g. "cache on"), run alone; its attacks run at the same time. */
export interface Variant {
  readonly name: string;
  readonly attacks: (mode: Mode) => readonly AttackDef[];
  readonly thresholds?: (mode: Mode) => readonly Threshold[];
  /** Brings the system into this variant's shape (runs here only; a k6 script takes the vars from `__ENV`). */
  readonly prepare?: (ctx: PrepareContext) => Promise<Prepared>;
}

/** What a variant's preparation may use (implemented by the runner). */
export interface PrepareContext {
  readonly mode: Mode;
  /** The running system: its addresses, its processes, restarts with other settings. */
  readonly system: System;
  /** Set with `--profile`: the services this variant restarts write V8 CPU profiles here when they exit. */
  readonly profileDir?: string;
  /** Set with `--heap`: the services this variant restarts write a heap snapshot here on SIGUSR2. */
  readonly heapDir?: string;
  /** A variable the stack exports (GATEWAY_URL, …); throws a usage error when missing. */
  env(name: string): string;
  log(line: string): void;
}

export interface Scenario {
  readonly name: string;
  readonly title: string;
  /** The question it answers, one sentence for the report. */
  readonly question: string;
  /** The variants compared in the same run; the first is the technique, the others what it is measured against. */
  readonly variants: readonly Variant[];
}
