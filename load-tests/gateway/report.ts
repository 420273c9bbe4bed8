import type { Machine } from '../shared/results';
import type { TargetResult } from './measure';
import type { Settings } from './settings';

export interface ReportMeta {
  /** The run's date, YYYY-MM-DD. */
  readonly stamp: string;
  readonly machine: Machine;
  /** `k6 version`'s first line. */
  readonly k6: string;
  /** The command that reproduces the run, knobs included. */
  readonly command: string;
}

/** The result file's data and its report, from the ladders' results; renders only, writes nothing. */
export function report(
  s: Settings,
  results: TargetResult[],
  meta: ReportMeta,
): { json: unknown; markdown: string } {
  const byName = Object.fromEntries(results.map((r) => [r.name, r]));
  const hello = byName['hello-world'];
  const gateway = byName['gateway'];
  const ratio =
    hello?.maxRate && gateway?.maxRate ? Math.round((gateway.maxRate / hello.maxRate) * 1000) / 1000 : null;
  // A maximum the ladder did not reach is only a lower bound, and so is the ratio's side it sits on.
  const ratioIs =
    ratio === null
      ? 'not measured'
      : hello?.maxIsLowerBound && gateway?.maxIsLowerBound
        ? 'unknown (neither maximum was reached: add higher RATES)'
        : gateway?.maxIsLowerBound
          ? 'a lower bound'
          : hello?.maxIsLowerBound
            ? 'an upper bound'
            : 'exact';
  const ratioText =
    ratio === null
      ? 'n/a'
      : ratioIs === 'exact'
        ? String(ratio)
        : ratioIs === 'a lower bound'
          ? `≥ ${ratio}`
          : ratioIs === 'an upper bound'
            ? `≤ ${ratio}`
            : `n/a (${ratioIs})`;
  const costRatio =
    hello?.serverUsPerRequestAtMax && gateway?.serverUsPerRequestAtMax
      ? Math.round((gateway.serverUsPerRequestAtMax / hello.serverUsPerRequestAtMax) * 10) / 10
      : null;
  const definition =
    `A step holds when < ${s.maxErrorRate * 100}% of its requests failed (non-200, timeout, connection error) and ` +
    `k6 dropped ≤ ${s.maxDroppedShare * 100}% of the iterations the arrival rate scheduled (no VU free: the target ` +
    `fell behind). A target's maximum rate is the highest achieved rate (requests completed ÷ step duration) among ` +
    `the steps that held.`;
  const json = {
    date: meta.stamp,
    machine: meta.machine,
    k6: meta.k6,
    command: meta.command,
    settings: s,
    definition,
    targets: results,
    ratioGatewayToHelloWorld: ratio,
    ratioIs,
    serverCpuPerRequestGatewayToHelloWorld: costRatio,
  };
  const { machine } = meta;
  const lines = [
    `# Gateway maximum rate vs a bare node:http hello world (${meta.stamp})`,
    '',
    `Machine: ${machine.cpus} cores (${machine.cpuModel}), ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}; ${meta.k6}.`,
    `Command: \`${meta.command}\`.`,
    '',
    `k6 runs on the same ${machine.cpus}-core machine as the server it drives, so at the top of the ladder the load`,
    'generator and the server compete for the cores. The CPU columns, over each k6 run: server, k6 and other (every',
    'other process, and the kernel) in % of one core, machine in % of all cores; a step with a large "other" share',
    'was disturbed by something else on the machine and should be re-run on a quiet one.',
    'Each target runs alone: one ladder after the other, the hello world stopped before the gateway',
    'steps, and nothing else driven meanwhile (what else runs on the machine — the stack the gateway needs: Redis,',
    'Kafka, the services — stays up, idle, for both ladders). Every step is an open-model constant arrival rate for',
    `${s.duration}, after an unrecorded ${s.warmup} warm-up at ${s.rates[0]}/s.`,
    '',
    definition,
    '',
    '| target | maximum rate (req/s) | ratio to hello world | server CPU per request at the maximum | ×hello world | limited by |',
    '|---|---|---|---|---|---|',
    ...results.map(
      (r) =>
        `| ${r.description} | ${r.maxRate === null ? 'none held' : `${r.maxIsLowerBound ? '≥ ' : ''}${r.maxRate}`} | ${
          r.name === 'hello-world' ? '1' : ratioText
        } | ${r.serverUsPerRequestAtMax === null ? 'n/a' : `${r.serverUsPerRequestAtMax} µs`} | ${
          r.name === 'hello-world' ? '1' : (costRatio ?? 'n/a')
        } | ${r.limit} |`,
    ),
    '',
    'Server CPU per request (CPU time of the server process(es) ÷ requests, over the step) does not depend on how',
    'much of the machine k6 needed: where the hello world is limited by the machine rather than by its own core,',
    'the ratio of CPU per request is the fairer comparison of what the gateway costs.',
    '',
  ];
  for (const r of results) {
    lines.push(
      `## ${r.description}`,
      '',
      `URL \`${r.url}\`; server pid(s) ${r.serverPids.join(', ') || 'unknown'}; load average before: ${r.loadAverageBefore.join(' ')}.`,
      '',
      '| target rate | achieved | p50 | p95 | p99 | max | errors | 429 | 5xx | other | dropped | CPU server | server µs/req | CPU k6 | CPU other | CPU machine | holds |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
      ...r.steps.map(
        (st) =>
          `| ${st.rate}/s | ${st.achievedRate}/s | ${st.latencyMs.p50} ms | ${st.latencyMs.p95} ms | ${st.latencyMs.p99} ms | ${st.latencyMs.max} ms | ` +
          `${(st.errorRate * 100).toFixed(2)}% | ${st.statuses.tooMany} | ${st.statuses.serverError} | ${st.statuses.other} | ` +
          `${st.dropped} (${(st.droppedShare * 100).toFixed(2)}%) | ${st.cpu['serverPct']}% | ${st.cpu['serverUsPerRequest']} | ${st.cpu['k6Pct']}% | ${st.cpu['otherPct']}% | ${st.cpu['machineBusyPct']}% | ${st.holds ? 'yes' : 'no'} |`,
      ),
      '',
    );
    if (r.skippedRates.length > 0) {
      lines.push(
        `Not run (the ladder stops after ${s.stopAfter} steps in a row that did not hold): ${r.skippedRates.join(', ')}/s.`,
        '',
      );
    }
    if (r.maxIsLowerBound) {
      lines.push(
        'The highest rate of the ladder held: the maximum is at least the figure above; add higher RATES.',
        '',
      );
    }
  }
  return { json, markdown: lines.join('\n') };
}
