import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { System } from '@saga-lab/stack';
import { exportK6 } from './k6';
import { renderReport, updateResultsTable } from './report';
import type { ScenarioResult } from './result';
import { runScenario } from './run';
import type { Mode, Scenario } from './scenario';
import { SCENARIOS } from './scenarios';

const USAGE = `npm run load -- <scenario|all|list|export-k6 <scenario>> [--smoke] [--only "variant,…"] [--out DIR]

  list                 the scenarios and what each answers
  <scenario>           runs it against the running system (started if it is not): a result (JSON) and a
                       report with charts in load-tests/results/<scenario>/, a row in load-tests/RESULTS.md
  all                  every scenario in turn
  export-k6 <scenario> prints the equivalent k6 script (k6 is not provisioned here: it is AGPL-3.0)
  --smoke              seconds at a low rate, thresholds on errors only (what npm test runs)
  --only V1,V2         only these variants of the scenario
  --rate R             every attack at R requests/s instead of its own (to probe or profile)
  --duration D         every attack for D seconds instead of its own
  --heap               heap snapshots of the processes under test before and after (what grew, in the report)
  --profile            CPU-profile the services a variant restarts (flame graph + top functions in the report)
  --out DIR            where results go (default load-tests/results; smoke runs: a temporary directory)`;

export interface CliArgs {
  readonly command: string;
  readonly scenario?: string;
  readonly mode: Mode;
  readonly only?: string[];
  readonly out?: string;
  readonly profile?: boolean;
  readonly heap?: boolean;
  readonly rate?: number;
  readonly durationS?: number;
}

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): CliArgs {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') throw new UsageError(USAGE);
  let scenario: string | undefined;
  let mode: Mode = 'full';
  let only: string[] | undefined;
  let out: string | undefined;
  let profile = false;
  let heap = false;
  let rate: number | undefined;
  let durationS: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--smoke') mode = 'smoke';
    else if (arg === '--profile') profile = true;
    else if (arg === '--heap') heap = true;
    else if (arg === '--rate' || arg === '--duration') {
      const value = Number(rest[++i]);
      if (!Number.isFinite(value) || value <= 0)
        throw new UsageError(`${arg} needs a positive number\n\n${USAGE}`);
      if (arg === '--rate') rate = value;
      else durationS = value;
    } else if (arg === '--only' || arg === '--out') {
      const value = rest[++i];
      if (!value) throw new UsageError(`${arg} needs a value\n\n${USAGE}`);
      if (arg === '--only') only = value.split(',').map((v) => v.trim());
      else out = value;
    } else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}\n\n${USAGE}`);
    else if (command === 'export-k6' && !scenario) scenario = arg;
    else throw new UsageError(`unexpected argument ${arg}\n\n${USAGE}`);
  }
  if (command === 'export-k6' && !scenario) throw new UsageError(`export-k6 needs a scenario\n\n${USAGE}`);
  return {
    command,
    mode,
    ...(scenario ? { scenario } : {}),
    ...(only ? { only } : {}),
    ...(out ? { out } : {}),
    ...(profile ? { profile } : {}),
    ...(heap ? { heap } : {}),
    ...(rate ? { rate } : {}),
    ...(durationS ? { durationS } : {}),
  };
}

export function findScenario(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.name === name);
  if (!scenario)
    throw new UsageError(`no scenario ${name}; there are: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  return scenario;
}

const RESULTS_DIR = path.join(__dirname, '..', 'results');
const RESULTS_TABLE = path.join(__dirname, '..', 'RESULTS.md');

/** Writes a run's result, report and charts; full runs also update RESULTS.md. Returns the report's path. */
export function writeRun(result: ScenarioResult, outDir: string): string {
  const stamp = result.startedAt.slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
  const dir = path.join(outDir, result.scenario, `${stamp}${result.mode === 'smoke' ? '-smoke' : ''}`);
  mkdirSync(dir, { recursive: true });
  // Flame graphs are files of their own; the result keeps the profiles' summaries.
  const stored: ScenarioResult = {
    ...result,
    variants: result.variants.map((v) =>
      v.profiles
        ? { ...v, profiles: v.profiles.map(({ flameGraph: _svg, ...rest }) => ({ ...rest, flameGraph: '' })) }
        : v,
    ),
  };
  const { markdown, charts } = renderReport(stored);
  writeFileSync(path.join(dir, 'result.json'), `${JSON.stringify(stored, null, 2)}\n`);
  writeFileSync(path.join(dir, 'report.md'), markdown + profileSection(result, dir));
  for (const [name, svg] of Object.entries(charts)) writeFileSync(path.join(dir, name), svg);
  const report = path.join(dir, 'report.md');
  if (result.mode === 'full' && outDir === RESULTS_DIR) {
    const existing = existsSync(RESULTS_TABLE) ? readFileSync(RESULTS_TABLE, 'utf8') : '';
    writeFileSync(
      RESULTS_TABLE,
      updateResultsTable(existing, result, path.relative(path.dirname(RESULTS_TABLE), report)),
    );
  }
  return report;
}

/** With --profile: each variant's flame graph written beside the report, its top functions in it. */
function profileSection(result: ScenarioResult, dir: string): string {
  const lines: string[] = [];
  for (const variant of result.variants)
    for (const profile of variant.profiles ?? []) {
      const file = `${variant.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-flame.svg`;
      writeFileSync(path.join(dir, file), profile.flameGraph);
      lines.push(
        '',
        `### CPU profile: ${variant.name} (${profile.samples} samples)`,
        '',
        `![flame graph](${file})`,
        '',
        '| package | self % |',
        '|---|---|',
        ...profile.topPackages.map((p) => `| ${p.name} | ${p.selfPct} |`),
        '',
        '| function | self % |',
        '|---|---|',
        ...profile.topFunctions.map((f) => `| \`${f.name.replace(/\|/g, '\\|')}\` | ${f.selfPct} |`),
      );
    }
  return lines.length ? `\n## CPU profiles\n${lines.join('\n')}\n` : '';
}

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  const log = (line: string): void => void process.stdout.write(`${line}\n`);
  if (args.command === 'list') {
    for (const s of SCENARIOS) log(`${s.name.padEnd(18)} ${s.question}`);
    return 0;
  }
  if (args.command === 'export-k6') {
    process.stdout.write(exportK6(findScenario(args.scenario as string), args.mode));
    return 0;
  }
  const scenarios = args.command === 'all' ? SCENARIOS : [findScenario(args.command)];
  const vegeta = process.env['VEGETA_BIN'];
  if (!vegeta)
    throw new Error('VEGETA_BIN is not set: run through npm run load (the stack provisions vegeta)');
  const version = /Version: (\S+)/.exec(execFileSync(vegeta, ['-version'], { encoding: 'utf8' }))?.[1];
  const generator = `vegeta ${version ?? '(version unknown)'}`;
  const system = System.fromProcess(log);
  const outDir =
    args.out ?? (args.mode === 'smoke' ? mkdtempSync(path.join(os.tmpdir(), 'load-smoke-')) : RESULTS_DIR);
  // The generator's raw results and the CPU profiles, kept with KEEP_RAW=1 (their path is printed).
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'load-raw-'));
  let failed = 0;
  try {
    for (const scenario of scenarios) {
      const result = await runScenario(scenario, {
        mode: args.mode,
        system,
        vegeta,
        generator,
        workDir,
        command: `npm run load -- ${argv.join(' ')}`,
        log,
        ...(args.only ? { only: args.only } : {}),
        ...(args.profile ? { profile: true } : {}),
        ...(args.heap ? { heap: true } : {}),
        ...(args.rate || args.durationS
          ? {
              resize: {
                ...(args.rate ? { rate: args.rate } : {}),
                ...(args.durationS ? { durationS: args.durationS } : {}),
              },
            }
          : {}),
      });
      const report = writeRun(result, outDir);
      log(
        `${result.passed ? '✓ PASS' : '✗ FAIL'} ${scenario.name} — report ${path.relative(process.cwd(), report)}`,
      );
      if (!result.passed) failed++;
    }
  } finally {
    if (process.env['KEEP_RAW'] === '1') log(`raw results kept in ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
    await system.close();
  }
  return failed === 0 ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `${error instanceof UsageError ? '' : 'load: '}${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
