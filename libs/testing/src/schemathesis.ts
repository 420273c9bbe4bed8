import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { requireEnv } from './env';

export interface SchemathesisRun {
  /** Where the OpenAPI document is served. */
  readonly specUrl: string;
  readonly bearerToken: string;
  readonly seed: number;
  readonly maxExamples: number;
  /** Further CLI arguments (e.g. `--include-operation-id x`). */
  readonly extraArgs?: readonly string[];
  readonly timeoutMs?: number;
}

export interface SchemathesisOutcome {
  readonly exitCode: number;
  readonly output: string;
  readonly failures: readonly { code: string; title: string }[];
}

/**
 * Runs schemathesis (installed by the stack, SCHEMATHESIS_BIN) against an OpenAPI document with the checks
 * Saga Lab holds APIs to: no 5xx, and every status, content type and body as documented. It runs in a
 * fresh temporary directory (it keeps caches in the working directory) and returns its JSON report.
 */
export function runSchemathesis(run: SchemathesisRun): Promise<SchemathesisOutcome> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'schemathesis-'));
  const reportFile = path.join(dir, 'report.json');
  const args = [
    'run',
    run.specUrl,
    '--checks',
    'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
    '--max-examples',
    String(run.maxExamples),
    '--seed',
    String(run.seed),
    '--header',
    `Authorization: Bearer ${run.bearerToken}`,
    '--generation-database',
    'none',
    '--report',
    'json',
    '--report-json-path',
    reportFile,
    '--no-color',
    ...(run.extraArgs ?? []),
  ];
  const options = { cwd: dir, timeout: run.timeoutMs ?? 240_000, maxBuffer: 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => {
    execFile(requireEnv('SCHEMATHESIS_BIN'), args, options, (error, stdout, stderr) => {
      const exitCode = error ? error.code : 0;
      if (typeof exitCode !== 'number') return reject(error ?? new Error('schemathesis gave no exit code'));
      try {
        const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
          failures: SchemathesisOutcome['failures'];
        };
        resolve({ exitCode, output: plain(`${stdout}${stderr}`), failures: report.failures });
      } catch (cause) {
        reject(new Error(`schemathesis exited ${exitCode} without a report:\n${stdout}${stderr}`, { cause }));
      }
    });
  });
}

/** Without terminal control sequences (progress bars and bold text still appear under CI, --no-color or not). */
// eslint-disable-next-line no-control-regex -- matching the terminal's escape character is the point
const plain = (text: string): string => text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
