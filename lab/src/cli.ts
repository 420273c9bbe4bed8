import path from 'node:path';
import { startLabPage } from './page/server';
import { summaryTable } from './report';
import { EXPERIMENTS, experiment as findExperiment, type Experiment } from './experiments';
import { checkNow, runExperiment, type RunOptions } from './runner';
import { System } from '@saga-lab/stack';

const USAGE = `npm run lab -- <experiment|all|check|list> [--seed N] [--rate R] [--duration D] [--converge C]

  <experiment>   run one experiment: a seeded workload through the gateway, its faults, healing, the checker
  all            every experiment in turn (the safeguard-off ones must be caught)
  check          the invariant checker alone, on the last run (or --since S seconds of orders)
  list           the experiments and what each shows
  summary        the newest run of each experiment as one table (from lab/reports)
  page           the lab page: sagas by state, active faults, the last verdict and reports (Ctrl-C stops it)

  --seed N       workload and fault timings (default 1): the same seed gives the same run
  --rate R       orders per second (default 8)
  --duration D   seconds of workload (default 30)
  --converge C   seconds after healing within which every order must be terminal and every invariant hold (default 60)

Reports go to lab/reports/ (index: lab/reports/README.md).`;

export interface CliArgs {
  readonly command: string;
  readonly seed: number;
  readonly rate: number;
  readonly durationS: number;
  readonly convergeS: number;
  readonly sinceS: number | undefined;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') throw new UsageError(USAGE);
  const values = new Map<string, number>();
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i] as string;
    if (!['--seed', '--rate', '--duration', '--converge', '--since'].includes(flag))
      throw new UsageError(`unknown option ${flag}\n\n${USAGE}`);
    const value = Number(rest[++i]);
    if (!Number.isFinite(value) || value < 0 || (flag !== '--seed' && value === 0))
      throw new UsageError(`${flag} needs a positive number`);
    values.set(flag, value);
  }
  const rate = values.get('--rate') ?? 8;
  if (rate > 100) throw new UsageError('--rate above 100 orders/s is a load test, not a failure experiment');
  return {
    command,
    seed: Math.floor(values.get('--seed') ?? 1),
    rate,
    durationS: values.get('--duration') ?? 30,
    convergeS: values.get('--converge') ?? 60,
    sinceS: values.get('--since'),
  };
}

export class UsageError extends Error {}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  if (args.command === 'summary') {
    process.stdout.write(summaryTable(path.resolve(__dirname, '..', 'reports')));
    return 0;
  }
  if (args.command === 'list') {
    for (const e of EXPERIMENTS)
      log(
        `${e.name.padEnd(48)} ${'holds' in e.expect ? 'holds' : `caught: ${e.expect.caught.join('|')}`}\n    ${e.lesson}`,
      );
    return 0;
  }
  const system = System.fromProcess(log);
  if (args.command === 'page') return servePage(system, log);
  const selected: Experiment[] | undefined =
    args.command === 'check'
      ? undefined
      : args.command === 'all'
        ? [...EXPERIMENTS]
        : [findExperiment(args.command)];
  try {
    await system.ensureUp();
    if (!selected) {
      const { scope, verdict } = await checkNow(
        system,
        args.sinceS === undefined ? undefined : args.sinceS * 1000,
      );
      log(`checked ${verdict.ordersChecked} orders: ${scope}`);
      for (const i of verdict.invariants)
        log(
          `  ${!i.checked ? '·' : i.holds ? '✓' : '✗'} ${i.name} — ${i.description}${i.holds ? '' : `\n      ${i.details.join('\n      ')}`}`,
        );
      return verdict.ok ? 0 : 1;
    }
    const options: RunOptions = {
      seed: args.seed,
      ratePerSecond: args.rate,
      durationMs: args.durationS * 1000,
      convergeBoundMs: args.convergeS * 1000,
      reportsDir: path.join(system.repoRoot, 'lab', 'reports'),
    };
    const failed: string[] = [];
    for (const e of selected) {
      const result = await runExperiment(system, e, options, log);
      if (!result.passed) failed.push(e.name);
    }
    if (selected.length > 1)
      log(
        failed.length === 0
          ? `\nall ${selected.length} experiments passed`
          : `\n${failed.length} of ${selected.length} failed: ${failed.join(', ')}`,
      );
    return failed.length === 0 ? 0 : 1;
  } finally {
    await system.close();
  }
}

/** Serves the lab page until interrupted: port 3100 (13100 in the test profile). It starts nothing else. */
async function servePage(system: System, log: (line: string) => void): Promise<number> {
  system.readAddresses();
  const page = await startLabPage({
    host: '127.0.0.1',
    port: system.isTestProfile ? 13_100 : 3_100,
    stateDir: system.stateDir,
    reportsDir: path.join(system.repoRoot, 'lab', 'reports'),
    ordersDatabaseUrl: system.env('ORDER_DATABASE_URL'),
  });
  log(`Lab page: ${page.url} (Ctrl-C stops it)`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await page.close();
  await system.close();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof UsageError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
