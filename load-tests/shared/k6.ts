import { execFileSync } from 'node:child_process';

/**
 * The arguments and environment of `k6 run <scenario>`; scenarios read their knobs from the environment
 * (`__ENV`), and k6 would otherwise send its anonymous usage report from every run.
 */
export function k6Run(
  scenario: string,
  variables: Record<string, string>,
): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: ['run', '--quiet', '--no-usage-report', scenario],
    env: { ...process.env, ...variables, K6_NO_USAGE_REPORT: 'true' },
  };
}

/** The first line of `k6 version`, e.g. "k6 v1.8.1 (go1.26.8, linux/amd64)", for the results. */
export function k6Version(k6: string): string {
  return execFileSync(k6, ['version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'k6';
}
