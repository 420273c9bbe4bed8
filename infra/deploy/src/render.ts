import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

const execFileAsync = promisify(execFile);

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/** One directory of k8s/ that kustomize reads: a Kustomization (buildable) or a Component (not on its own). */
export interface KustomizationDir {
  /** Relative to k8s/, with forward slashes: `base`, `overlays/kind`, `components/consul-discovery`. */
  readonly dir: string;
  readonly kind: 'Kustomization' | 'Component';
  readonly content: Record<string, unknown>;
}

/** What `kustomize build` is run on: a directory, or the base with one component added. */
export interface RenderTarget {
  readonly name: string;
  readonly dir: string;
  readonly components?: readonly string[];
}

/** Parses every YAML document of a text; a document that does not parse is an error naming the file. */
export function parseYamlDocuments(text: string, file: string): unknown[] {
  return parseAllDocuments(text)
    .map((document, index) => {
      if (document.errors.length > 0) {
        throw new Error(`${file}, document ${index + 1}: ${document.errors[0]?.message ?? 'not YAML'}`);
      }
      return document.toJS() as unknown;
    })
    .filter((value) => value !== null && value !== undefined);
}

function walk(dir: string, root: string = dir): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, root));
    else out.push(path.relative(root, full).split(path.sep).join('/'));
  }
  return out.sort();
}

/**
 * The YAML files under k8s/ that git would commit (tracked, or new and not ignored), relative to k8s/: what
 * the committed-secret rule scans. Files git ignores (the generated secrets) are left out; outside a git
 * work tree, every YAML file counts.
 */
export function yamlFiles(k8sDir: string): string[] {
  let files: string[];
  try {
    const listed = execFileSync(
      'git',
      ['ls-files', '--cached', '--others', '--exclude-standard', '-z', '--', '.'],
      {
        cwd: k8sDir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    files = listed
      .split('\0')
      .filter((file) => file !== '' && existsSync(path.join(k8sDir, file)))
      .sort();
  } catch {
    files = walk(k8sDir);
  }
  return files.filter((file) => /\.ya?ml$/.test(file));
}

/** Every kustomization directory under k8s/, sorted. */
export function findKustomizations(k8sDir: string): KustomizationDir[] {
  const found: KustomizationDir[] = [];
  for (const file of walk(k8sDir)) {
    if (!KUSTOMIZATION_FILES.includes(path.posix.basename(file))) continue;
    const [content] = parseYamlDocuments(readFileSync(path.join(k8sDir, file), 'utf8'), `k8s/${file}`);
    const kind =
      (content as Record<string, unknown> | undefined)?.['kind'] === 'Component'
        ? 'Component'
        : 'Kustomization';
    found.push({ dir: path.posix.dirname(file), kind, content: (content ?? {}) as Record<string, unknown> });
  }
  return found;
}

/**
 * What to render: every Kustomization as it is, and the base with each Component added (a Component is
 * not buildable alone; the overlays that use one are rendered as well).
 */
export function renderTargets(kustomizations: readonly KustomizationDir[]): RenderTarget[] {
  const targets: RenderTarget[] = kustomizations
    .filter((k) => k.kind === 'Kustomization')
    .map((k) => ({ name: k.dir, dir: k.dir }));
  const hasBase = kustomizations.some((k) => k.dir === 'base' && k.kind === 'Kustomization');
  for (const component of kustomizations.filter((k) => k.kind === 'Component')) {
    if (hasBase) targets.push({ name: `base + ${component.dir}`, dir: 'base', components: [component.dir] });
  }
  return targets;
}

/** Files a secretGenerator entry reads, relative to its kustomization (`key=path` gives `path`). */
export function secretGeneratorFiles(
  kustomization: Record<string, unknown>,
): { file: string; env: boolean }[] {
  const generators = Array.isArray(kustomization['secretGenerator']) ? kustomization['secretGenerator'] : [];
  const files: { file: string; env: boolean }[] = [];
  for (const generator of generators as Record<string, unknown>[]) {
    const strings = (value: unknown): string[] =>
      Array.isArray(value)
        ? value.filter((v): v is string => typeof v === 'string')
        : typeof value === 'string'
          ? [value]
          : [];
    for (const entry of strings(generator['files']))
      files.push({ file: entry.split('=').at(-1) ?? entry, env: false });
    for (const entry of [...strings(generator['envs']), ...strings(generator['env'])])
      files.push({ file: entry, env: true });
  }
  return files;
}

const throwaway = (): string => randomBytes(18).toString('base64url');

/** Every file a secretGenerator of k8s/ reads, relative to k8s/. */
export function secretFiles(kustomizations: readonly KustomizationDir[]): { file: string; env: boolean }[] {
  return kustomizations.flatMap(({ dir, content }) =>
    secretGeneratorFiles(content).map(({ file, env }) => ({ file: path.posix.join(dir, file), env })),
  );
}

/**
 * Writes every secretGenerator file with random values, in a copy of k8s/ that has none of them: the real
 * ones (`npm run kind -- up` writes them, git ignores them) are neither needed nor read, so a fresh clone
 * renders exactly as a machine that has them. An env file takes its keys from a committed
 * `<file>.example` when there is one. Returns the files written.
 */
export function writeThrowawaySecrets(
  k8sCopy: string,
  kustomizations: readonly KustomizationDir[],
): string[] {
  const made: string[] = [];
  for (const { file, env } of secretFiles(kustomizations)) {
    const target = path.join(k8sCopy, file);
    if (made.includes(file)) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    let text = `${throwaway()}\n`;
    if (env) {
      const example = `${target}.example`;
      const keys = existsSync(example)
        ? readFileSync(example, 'utf8')
            .split('\n')
            .map((line) => /^\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=/.exec(line)?.[1])
            .filter((key): key is string => key !== undefined)
        : ['PLACEHOLDER'];
      text = keys.map((key) => `${key}=${throwaway()}\n`).join('');
    }
    writeFileSync(target, text, { mode: 0o600 });
    made.push(file);
  }
  return made;
}

/**
 * Copies k8s/ for rendering, without the secretGenerator files (see writeThrowawaySecrets). Symbolic
 * links are followed, so a link to a file elsewhere in the repository stays readable from the copy.
 */
export function copyK8s(k8sDir: string, into: string, kustomizations: readonly KustomizationDir[]): string {
  const copy = path.join(into, 'k8s');
  const secrets = new Set(secretFiles(kustomizations).map(({ file }) => path.resolve(k8sDir, file)));
  cpSync(k8sDir, copy, {
    recursive: true,
    dereference: true,
    filter: (source) => !secrets.has(path.resolve(source)),
  });
  return copy;
}

/**
 * Writes the kustomization that adds components to a directory (kustomize builds a Component only from a
 * Kustomization that lists it), beside the others in the copy, and returns its directory.
 */
export function composeTarget(k8sCopy: string, target: RenderTarget): string {
  if (!target.components?.length) return path.join(k8sCopy, target.dir);
  const dir = path.join(k8sCopy, '.validate', target.components.map((c) => c.replaceAll('/', '-')).join('+'));
  mkdirSync(dir, { recursive: true });
  const up = (p: string): string => path.relative(dir, path.join(k8sCopy, p)).split(path.sep).join('/');
  writeFileSync(
    path.join(dir, 'kustomization.yaml'),
    [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${up(target.dir)}`,
      'components:',
      ...target.components.map((c) => `  - ${up(c)}`),
      '',
    ].join('\n'),
  );
  return dir;
}

export interface Rendered {
  readonly target: RenderTarget;
  /** The YAML kustomize printed (empty when it failed). */
  readonly yaml: string;
  readonly objects: Record<string, unknown>[];
  /** kustomize's error, when the build failed. */
  readonly error?: string;
}

/** Runs `kustomize build` on one target of the copy. */
export async function render(kustomize: string, k8sCopy: string, target: RenderTarget): Promise<Rendered> {
  const dir = composeTarget(k8sCopy, target);
  try {
    const { stdout } = await execFileAsync(kustomize, ['build', dir], { maxBuffer: 64 * 1024 * 1024 });
    const objects = parseYamlDocuments(stdout, `kustomize build ${target.name}`) as Record<string, unknown>[];
    return { target, yaml: stdout, objects };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    return { target, yaml: '', objects: [], error: stderr || (error as Error).message };
  }
}

export const isDirectory = (p: string): boolean => existsSync(p) && statSync(p).isDirectory();
