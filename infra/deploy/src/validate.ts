import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { StackError } from '@saga-lab/stack';
import { checkKindCluster, kindNodeCount } from './kind-config';
import {
  GIB,
  RULES,
  checkObjects,
  committedSecrets,
  formatBytes,
  memoryRequests,
  type Finding,
  type K8sObject,
  type MemoryLine,
} from './policy';
import {
  copyK8s,
  findKustomizations,
  parseYamlDocuments,
  render,
  renderTargets,
  writeThrowawaySecrets,
  yamlFiles,
} from './render';

const execFileAsync = promisify(execFile);

/**
 * The offline validation of the deploy files (`npm run k8s:validate`, and the int test in `npm test`):
 * every kustomization of k8s/ rendered, each rendering checked by kubeconform against the Kubernetes API's
 * schemas (strict: unknown fields fail) and by our policy rules (policy.ts), the kind cluster
 * configuration checked, and infra/compose/compose.yaml checked by Docker Compose. Nothing is deployed
 * and nothing leaves the machine: the schemas are generated locally (K8S_SCHEMAS_DIR).
 */

export interface ValidationTools {
  /** kustomize, kubeconform and docker-compose binaries, and kubeconform's schema location. */
  readonly kustomize: string;
  readonly kubeconform: string;
  readonly compose: string;
  readonly schemasDir: string;
}

export interface ValidateOptions {
  readonly repoRoot: string;
  readonly tools: ValidationTools;
  /** The Kubernetes version of the schemas (infra/versions.json `kubernetes`). */
  readonly kubernetesVersion: string;
  /** The rendering whose memory requests must fit `memoryBudget` (the local kind cluster). */
  readonly budgetTarget?: string;
  readonly memoryBudget?: number;
}

export interface KubeconformResource {
  readonly filename: string;
  readonly kind: string;
  readonly name: string;
  readonly version: string;
  readonly status: string;
  readonly msg?: string;
  readonly validationErrors?: readonly { path: string; msg: string }[];
}

export interface KubeconformSummary {
  readonly valid: number;
  readonly invalid: number;
  readonly errors: number;
  readonly skipped: number;
}

export interface RenderingReport {
  readonly name: string;
  readonly objects: number;
  /** kustomize's error when it could not build. */
  readonly renderError?: string;
  readonly kubeconform?: { readonly summary: KubeconformSummary; readonly problems: KubeconformResource[] };
  /** Kinds left to kubeconform's -skip: custom resources, for which the API has no schema. */
  readonly skippedKinds: string[];
  readonly findings: Finding[];
  /** Memory requests when everything in it runs. */
  readonly memory: { readonly total: number; readonly lines: MemoryLine[] };
}

export interface ValidationReport {
  readonly kubernetesVersion: string;
  readonly renderings: RenderingReport[];
  /** Findings about the source files themselves (committed secrets, the kind cluster configuration). */
  readonly sourceFindings: Finding[];
  readonly kindClusters: { readonly file: string; readonly problems: string[] }[];
  readonly budget?: { readonly target: string; readonly total: number; readonly limit: number };
  readonly compose: { readonly file: string; readonly ok: boolean; readonly output: string };
  /** Secret files written with random values for the rendering (not committed anywhere). */
  readonly throwawaySecrets: string[];
  readonly ok: boolean;
}

const TOOL_VARS = {
  kustomize: 'KUSTOMIZE_BIN',
  kubeconform: 'KUBECONFORM_BIN',
  compose: 'DOCKER_COMPOSE_BIN',
  schemasDir: 'K8S_SCHEMAS_DIR',
} as const;

/** The tools from the environment `stack exec` and `npm test` export; a missing one is named with the fix. */
export function toolsFromEnv(env: NodeJS.ProcessEnv): ValidationTools {
  const missing = Object.values(TOOL_VARS).filter((name) => !env[name] || !existsSync(env[name] ?? ''));
  if (missing.length > 0) {
    const names = missing.map((name) => (env[name] ? `${name}=${env[name]}` : name)).join(', ');
    throw new StackError(
      `The deploy validation's tools are not provisioned yet (${names}).`,
      'Run `npm run stack -- up kustomize kubeconform compose k8s-schemas` once: it builds them and starts nothing.',
    );
  }
  return {
    kustomize: env[TOOL_VARS.kustomize] as string,
    kubeconform: env[TOOL_VARS.kubeconform] as string,
    compose: env[TOOL_VARS.compose] as string,
    schemasDir: env[TOOL_VARS.schemasDir] as string,
  };
}

export const DEFAULT_BUDGET_TARGET = 'overlays/kind';
export const DEFAULT_MEMORY_BUDGET = 4 * GIB;
export const COMPOSE_FILE = 'infra/compose/compose.yaml';

/** A group-version's first label, as kubeconform names its schema files (`apps`, `networking`, or core). */
const groupLabel = (apiVersion: string): string =>
  apiVersion.includes('/') ? (apiVersion.split('/')[0]?.split('.')[0] ?? '') : '';

/** The group labels the schema directory has files for: anything else is a custom resource. */
function builtInGroups(schemasDir: string, kubernetesVersion: string): Set<string> {
  const dir = path.join(schemasDir, `v${kubernetesVersion}-standalone-strict`);
  const groups = new Set<string>(['']);
  for (const file of existsSync(dir) ? readdirSync(dir) : []) {
    const parts = file.replace(/\.json$/, '').split('-');
    if (parts.length === 3 && parts[1]) groups.add(parts[1]);
  }
  return groups;
}

/**
 * kubeconform on one rendering: strict, offline (our schemas only, never its default download location),
 * JSON output. Custom resources are skipped by group-version-kind: the API's schemas do not describe them.
 */
export async function runKubeconform(
  tools: ValidationTools,
  kubernetesVersion: string,
  file: string,
  skip: readonly string[],
): Promise<{ summary: KubeconformSummary; problems: KubeconformResource[] }> {
  const args = [
    '-strict',
    '-summary',
    '-output',
    'json',
    '-kubernetes-version',
    kubernetesVersion,
    '-schema-location',
    tools.schemasDir,
    ...(skip.length > 0 ? ['-skip', skip.join(',')] : []),
    file,
  ];
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync(tools.kubeconform, args, { maxBuffer: 64 * 1024 * 1024 }));
  } catch (error) {
    // Exit status 1 means "invalid resources", reported in the JSON like a success.
    stdout = (error as { stdout?: string }).stdout ?? '';
    if (!stdout.trim()) throw error;
  }
  const parsed = JSON.parse(stdout) as { resources?: KubeconformResource[]; summary: KubeconformSummary };
  return { summary: parsed.summary, problems: parsed.resources ?? [] };
}

/** Names of variables a compose file requires (`${NAME:?…}` or `${NAME?…}`). */
export function requiredComposeVariables(text: string): string[] {
  return [
    ...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1] as string)),
  ].sort();
}

/**
 * `docker compose config --quiet` on the compose file, every profile enabled, with throwaway values for
 * the variables it requires and an empty env file instead of the machine's generated .env: the result
 * does not depend on what this machine has generated. No Docker engine is involved.
 */
export async function checkCompose(
  compose: string,
  file: string,
  scratch: string,
): Promise<{ ok: boolean; output: string }> {
  const emptyEnv = path.join(scratch, 'empty.env');
  writeFileSync(emptyEnv, '');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: scratch,
    DOCKER_CONFIG: path.join(scratch, 'docker'),
    ...Object.fromEntries(
      requiredComposeVariables(readFileSync(file, 'utf8')).map((name) => [name, 'throwaway']),
    ),
  };
  const args = ['--file', file, '--env-file', emptyEnv, '--profile', '*', 'config', '--quiet'];
  try {
    const { stdout, stderr } = await execFileAsync(compose, args, { env, cwd: path.dirname(file) });
    return { ok: true, output: `${stdout}${stderr}`.trim() };
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}`.trim() || (error as Error).message };
  }
}

export async function validateDeploy(options: ValidateOptions): Promise<ValidationReport> {
  const { repoRoot, tools, kubernetesVersion } = options;
  const k8sDir = path.join(repoRoot, 'k8s');
  const budgetTarget = options.budgetTarget ?? DEFAULT_BUDGET_TARGET;
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'saga-lab-k8s-validate-'));
  try {
    // The sources: committed secrets and kind's cluster configuration are checked as written.
    const sources = yamlFiles(k8sDir).flatMap((file) =>
      parseYamlDocuments(readFileSync(path.join(k8sDir, file), 'utf8'), `k8s/${file}`).map((object) => ({
        file: `k8s/${file}`,
        object,
      })),
    );
    const sourceFindings = committedSecrets(sources);
    const kindClusters = sources
      .filter(({ object }) =>
        String((object as K8sObject | null)?.['apiVersion'] ?? '').startsWith('kind.x-k8s.io/'),
      )
      .map(({ file, object }) => ({ file, object, problems: checkKindCluster(object) }));
    const nodes = Math.max(1, ...kindClusters.map(({ object }) => kindNodeCount(object)));

    const kustomizations = findKustomizations(k8sDir);
    const copy = copyK8s(k8sDir, scratch, kustomizations);
    const throwawaySecrets = writeThrowawaySecrets(copy, kustomizations);
    const groups = builtInGroups(tools.schemasDir, kubernetesVersion);
    const renderings: RenderingReport[] = [];
    for (const target of renderTargets(kustomizations)) {
      const rendered = await render(tools.kustomize, copy, target);
      if (rendered.error !== undefined) {
        renderings.push({
          name: target.name,
          objects: 0,
          renderError: rendered.error,
          skippedKinds: [],
          findings: [],
          memory: { total: 0, lines: [] },
        });
        continue;
      }
      const file = path.join(scratch, `${target.name.replace(/[^A-Za-z0-9]+/g, '_')}.yaml`);
      writeFileSync(file, rendered.yaml);
      const skippedKinds = [
        ...new Set(
          rendered.objects
            .filter((o) => !groups.has(groupLabel(String(o['apiVersion'] ?? ''))))
            .map((o) => `${String(o['apiVersion'])}/${String(o['kind'])}`),
        ),
      ].sort();
      renderings.push({
        name: target.name,
        objects: rendered.objects.length,
        kubeconform: await runKubeconform(tools, kubernetesVersion, file, skippedKinds),
        skippedKinds,
        findings: checkObjects(rendered.objects),
        memory: memoryRequests(rendered.objects, nodes),
      });
    }

    const budgetRendering = renderings.find((r) => r.name === budgetTarget && r.renderError === undefined);
    const limit = options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
    const budget = budgetRendering
      ? { target: budgetTarget, total: budgetRendering.memory.total, limit }
      : undefined;
    if (budget && budget.total > limit) {
      sourceFindings.push({
        rule: 'memory-budget',
        object: budgetTarget,
        message: `the pods request ${formatBytes(budget.total)} of memory, more than ${formatBytes(limit)}`,
      });
    }

    const composeFile = path.join(repoRoot, COMPOSE_FILE);
    const compose = existsSync(composeFile)
      ? { file: COMPOSE_FILE, ...(await checkCompose(tools.compose, composeFile, scratch)) }
      : { file: COMPOSE_FILE, ok: false, output: `${COMPOSE_FILE} does not exist` };

    const ok =
      renderings.length > 0 &&
      renderings.every(
        (r) =>
          r.renderError === undefined &&
          r.findings.length === 0 &&
          r.kubeconform !== undefined &&
          r.kubeconform.summary.invalid === 0 &&
          r.kubeconform.summary.errors === 0,
      ) &&
      sourceFindings.length === 0 &&
      kindClusters.every((k) => k.problems.length === 0) &&
      budget !== undefined &&
      compose.ok;
    return {
      kubernetesVersion,
      renderings,
      sourceFindings,
      kindClusters: kindClusters.map(({ file, problems }) => ({ file, problems })),
      ...(budget ? { budget } : {}),
      compose,
      throwawaySecrets,
      ok,
    };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The report as a person reads it: one line per rendering, then every problem with its rule. */
export function formatReport(report: ValidationReport): string {
  const lines: string[] = [];
  lines.push(`Kubernetes ${report.kubernetesVersion} schemas (strict), kustomize renderings of k8s/:`);
  const width = Math.max(...report.renderings.map((r) => r.name.length), 10);
  for (const r of report.renderings) {
    if (r.renderError !== undefined) {
      lines.push(`  ✗ ${r.name.padEnd(width)}  kustomize build failed`);
      continue;
    }
    const s = r.kubeconform?.summary;
    const bad = (s?.invalid ?? 0) + (s?.errors ?? 0) + r.findings.length;
    lines.push(
      `  ${bad === 0 ? '✓' : '✗'} ${r.name.padEnd(width)}  ${r.objects} objects: ${s?.valid ?? 0} valid, ` +
        `${s?.invalid ?? 0} invalid, ${s?.errors ?? 0} errors, ${s?.skipped ?? 0} skipped; ` +
        `${r.findings.length} policy findings; memory requests ${formatBytes(r.memory.total)}`,
    );
  }
  if (report.budget) {
    const { target, total, limit } = report.budget;
    lines.push(`Memory requests of ${target}: ${formatBytes(total)} (limit ${formatBytes(limit)}).`);
  } else lines.push(`Memory budget: no rendering named ${DEFAULT_BUDGET_TARGET} to check.`);
  for (const k of report.kindClusters) {
    lines.push(
      `kind cluster configuration ${k.file}: ${k.problems.length === 0 ? 'as expected' : k.problems.join('; ')}`,
    );
  }
  lines.push(`Compose file ${report.compose.file}: ${report.compose.ok ? 'valid' : 'INVALID'}`);
  if (report.compose.output) lines.push(...report.compose.output.split('\n').map((l) => `    ${l}`));
  if (report.throwawaySecrets.length > 0) {
    lines.push(
      `Rendered with throwaway values for: ${report.throwawaySecrets.map((f) => `k8s/${f}`).join(', ')}.`,
    );
  }

  const problems: string[] = [];
  for (const r of report.renderings) {
    if (r.renderError !== undefined)
      problems.push(
        `${r.name}: kustomize build failed:\n      ${r.renderError.replaceAll('\n', '\n      ')}`,
      );
    for (const resource of r.kubeconform?.problems ?? []) {
      const detail = resource.validationErrors?.length
        ? resource.validationErrors.map((e) => `${e.path || '/'}: ${e.msg}`).join('; ')
        : (resource.msg ?? resource.status);
      problems.push(`${r.name}: ${resource.kind} ${resource.name} (${resource.version}): ${detail}`);
    }
    if (r.skippedKinds.length > 0)
      problems.push(
        `${r.name}: not checked against a schema (custom resources): ${r.skippedKinds.join(', ')}`,
      );
    for (const f of r.findings) problems.push(`${r.name}: [${f.rule}] ${f.object}: ${f.message}`);
  }
  for (const f of report.sourceFindings) problems.push(`[${f.rule}] ${f.object}: ${f.message}`);
  if (problems.length > 0) lines.push('', ...problems.map((p) => `  • ${p}`));
  lines.push('', report.ok ? '✓ the deploy files are valid' : '✗ the deploy files are not valid (see above)');
  return `${lines.join('\n')}\n`;
}

/** The rules, for `--rules` and the docs. */
export const describeRules = (): string =>
  Object.entries(RULES)
    .map(([id, text]) => `  ${id.padEnd(26)} ${text}`)
    .join('\n');
