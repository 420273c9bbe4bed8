import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDir, provisionLog, type Component, type StackContext } from '../context';
import { run } from '../proc';
import { convertToKindSchemas, schemaDirName, type OpenApiDocument } from './k8s-openapi';
import { goEnv, goModDownload, requireTool, writeAtomic } from './toolchain';

/** The module whose api/openapi-spec/v3 holds the API server's OpenAPI documents (Apache-2.0). */
export const KUBERNETES_MODULE = 'k8s.io/kubernetes';

/** One document per group-version (`api__v1_openapi.json`, `apis__apps__v1_openapi.json`). */
const GROUP_VERSION_DOCUMENT = /^apis?__(?:[^_]+__)?v\d[a-z0-9]*_openapi\.json$/;

export interface SchemaLayout {
  /** What K8S_SCHEMAS_DIR points at: kubeconform's `-schema-location`. */
  readonly dir: string;
  /** Written last, naming the module version and checksum converted: the directory is whole. */
  readonly marker: string;
}

export function schemaLayout(cacheDir: string, version: string): SchemaLayout {
  const dir = path.join(cacheDir, 'k8s-schemas', version);
  return { dir, marker: path.join(dir, 'source.json') };
}

/** Reads the group-version documents of an unpacked k8s.io/kubernetes module. */
export function readOpenApiDocuments(moduleDir: string): OpenApiDocument[] {
  const specDir = path.join(moduleDir, 'api', 'openapi-spec', 'v3');
  const names = readdirSync(specDir)
    .filter((name) => GROUP_VERSION_DOCUMENT.test(name))
    .sort();
  if (names.length === 0) throw new Error(`No OpenAPI v3 document found in ${specDir}.`);
  return names.map((name) => JSON.parse(readFileSync(path.join(specDir, name), 'utf8')) as OpenApiDocument);
}

/**
 * Writes both layouts (strict and not) for one Kubernetes version under `dir`, each moved into place whole.
 * Returns how many files each holds.
 */
export function writeKindSchemas(
  documents: readonly OpenApiDocument[],
  dir: string,
  version: string,
): number {
  let count = 0;
  for (const strict of [true, false]) {
    const files = convertToKindSchemas(documents, { strict });
    const target = path.join(dir, schemaDirName(version, strict));
    const staging = `${target}.staging`;
    rmSync(staging, { recursive: true, force: true });
    ensureDir(staging);
    for (const [name, schema] of files) writeFileSync(path.join(staging, name), JSON.stringify(schema));
    rmSync(target, { recursive: true, force: true });
    renameSync(staging, target);
    count = files.size;
  }
  return count;
}

/**
 * The Kubernetes API's JSON Schemas, one per kind, for kubeconform: generated offline from the OpenAPI
 * documents in the k8s.io/kubernetes module of the pinned version (fetched from the Go module proxy, 18 MB,
 * checked against the checksum database; only its api/openapi-spec is read), cached per version. A tool:
 * provisioned, never started. `K8S_SCHEMAS_DIR` pointing at a directory of the user's own in kubeconform's
 * layout is used as it is.
 */
export function k8sSchemasComponent(ctx: StackContext): Component {
  const cfg = ctx.config['k8s-schemas'];
  const version = ctx.versions.kubernetes;
  const layout = schemaLayout(ctx.paths.cacheDir, version);
  const dir = cfg.managed ? layout.dir : cfg.address;
  return {
    name: 'k8s-schemas',
    version: cfg.managed ? version : 'external',
    kind: 'tool',
    async preflight() {
      if (cfg.managed && !existsSync(layout.marker)) {
        requireTool(
          ctx,
          'go',
          `download the Kubernetes ${version} OpenAPI documents from the Go module proxy`,
        );
      }
    },
    async provision() {
      if (!cfg.managed || existsSync(layout.marker)) return;
      const log = provisionLog(ctx, 'k8s-schemas');
      await ctx.reporter.step(
        `generating the Kubernetes ${version} JSON schemas from its OpenAPI documents (first run only)`,
        async () => {
          const { dir: moduleDir, sum } = await goModDownload(ctx, KUBERNETES_MODULE, `v${version}`, log);
          const count = writeKindSchemas(readOpenApiDocuments(moduleDir), layout.dir, version);
          writeAtomic(
            layout.marker,
            `${JSON.stringify({ module: `${KUBERNETES_MODULE}@v${version}`, sum, kinds: count }, null, 2)}\n`,
          );
          // 100 MB unpacked, of which 4 MB were read: nothing but a version bump would use it again.
          await run('go', ['clean', '-modcache'], {
            logFile: log,
            what: 'the Go module cache (clean-up)',
            env: goEnv(ctx),
          });
        },
      );
    },
    healthy: async () => existsSync(path.join(dir, schemaDirName(version, true))),
    exports: () => ({ K8S_SCHEMAS_DIR: dir }),
  };
}
