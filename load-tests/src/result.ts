import type { Metric, Mode, Threshold } from './scenario';

/** One second of an attack, by the time its requests were scheduled to be sent. */
export interface SecondSample {
  /** Seconds since the attack began. */
  readonly t: number;
  /** Responses to requests scheduled in this second, and how many of them were errors. */
  readonly requests: number;
  readonly errors: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
}

export interface ProcessFigures {
  /** CPU over the attack in % of one core, and µs of CPU time per request of all attacks running. */
  readonly cpuPct: number;
  readonly cpuUsPerRequest: number;
  /** Resident set size before the variant and after it, MiB. */
  readonly rssBeforeMiB: number;
  readonly rssAfterMiB: number;
}

export interface AttackResult {
  readonly name: string;
  readonly offeredRate: number;
  readonly durationS: number;
  /** Requests the generator sent, and responses per second over the attack's duration. */
  readonly requests: number;
  readonly achievedRate: number;
  /**
   * Latency from the moment each request was *scheduled* (start + n / rate), not from when it was sent:
   * a generator that falls behind cannot hide the wait (no coordinated omission).
   */
  readonly latency: {
    readonly p50Ms: number;
    readonly p95Ms: number;
    readonly p99Ms: number;
    readonly maxMs: number;
  };
  /** Share of requests that were not an ok status (timeouts and connection errors included). */
  readonly errorRate: number;
  /** Responses by status code ("0" for no response), and error texts by count. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: Readonly<Record<string, number>>;
  readonly series: readonly SecondSample[];
}

export interface ThresholdOutcome extends Threshold {
  readonly actual: number;
  readonly passed: boolean;
}

export interface VariantResult {
  readonly name: string;
  readonly attacks: readonly AttackResult[];
  /** By process label (gateway, order, …), and `generator` for the load generator itself. */
  readonly processes: Readonly<Record<string, ProcessFigures>>;
  readonly thresholds: readonly ThresholdOutcome[];
  /** Scenario-specific findings (saga completion, backend calls, EXPLAIN plans…), rendered as given. */
  readonly facts?: Readonly<Record<string, string | number>>;
  /** Findings that fail the run (like a threshold crossed). */
  readonly failures?: readonly string[];
  readonly notes?: readonly string[];
  /** With `--profile`: each restarted service's CPU profile, summarised (the flame graph is an SVG file). */
  readonly profiles?: readonly {
    readonly file: string;
    readonly samples: number;
    readonly topFunctions: readonly { readonly name: string; readonly selfPct: number }[];
    readonly topPackages: readonly { readonly name: string; readonly selfPct: number }[];
    readonly flameGraph: string;
  }[];
}

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  /** 1, 5 and 15 minute load averages when the run began and when it ended. */
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
}

export interface ScenarioResult {
  readonly scenario: string;
  readonly title: string;
  readonly question: string;
  readonly mode: Mode;
  /** ISO time the run began. */
  readonly startedAt: string;
  readonly command: string;
  readonly generator: string;
  readonly machine: MachineInfo;
  readonly variants: readonly VariantResult[];
  /** The bare node:http baseline's CPU per request measured in the same run, when the scenario took one. */
  readonly baselineUsPerRequest?: number;
  readonly passed: boolean;
}

export type { Metric };
