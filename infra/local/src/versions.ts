import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const semver = z.string().regex(/^\d+\.\d+\.\d+$/, 'a pinned x.y.z version');

export const versionsSchema = z.object({
  node: semver,
  kafka: z.object({ version: semver, scala: z.string().regex(/^\d+\.\d+$/), log4j: semver }),
  zipkin: semver,
  consul: semver,
  toxiproxy: semver,
  /** Installed with pip into a virtualenv under the cache (a Python tool, not a Go one). */
  schemathesis: semver,
  /** The load generator for load-tests/, built from the Go module proxy (module github.com/tsenart/vegeta/v12). */
  vegeta: semver,
  /**
   * The deploy validation's tools (`npm run k8s:validate`), built from the Go module proxy. kustomize stays
   * at 5.8.2 while 5.8.3 and later need a newer Go than the stack builds with.
   */
  kustomize: semver,
  kubeconform: semver,
  /** Docker Compose v2 (module github.com/docker/compose/v2): only `config` is run, no engine needed. */
  compose: semver,
  /** The Kubernetes version k8s/ is validated against: its OpenAPI documents give the JSON schemas. */
  kubernetes: semver,
  postgresql: z.object({ debianPackage: z.string(), minimumMajor: z.number().int() }),
  /** Redis after 7.2 is not under an open-source licence: `newestBsd` is the newest release allowed. */
  redis: z.object({
    debianPackage: z.string(),
    minimumMajor: z.number().int(),
    newestBsd: z.string().regex(/^\d+\.\d+$/),
  }),
  /**
   * Built from the Go module proxy (module tag v0.<major><minor>.<patch>) with Consul discovery: Debian 12's
   * package (2.42) is built without it.
   */
  prometheus: semver,
});

export type Versions = z.infer<typeof versionsSchema>;

export const versionsFile = (repoRoot: string): string => path.join(repoRoot, 'infra', 'versions.json');

export function loadVersions(repoRoot: string): Versions {
  return versionsSchema.parse(JSON.parse(readFileSync(versionsFile(repoRoot), 'utf8')));
}
