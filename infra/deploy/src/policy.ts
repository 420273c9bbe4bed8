/**
 * The rules every rendered Kubernetes object of k8s/ must follow beyond the API's schemas: what the images
 * promise (non-root, read-only root filesystem) made mandatory, and what a reviewer would otherwise have
 * to notice by eye (a missing limit, a floating tag, a token mounted for nothing). Pure functions over
 * parsed objects, so each rule is tested on small good and bad objects.
 */

/** A parsed Kubernetes object; fields are read defensively, the schema check comes separately. */
export type K8sObject = Record<string, unknown>;

export interface Finding {
  readonly rule: RuleId;
  /** `Kind namespace/name`, plus the container where one is meant. */
  readonly object: string;
  readonly message: string;
}

export const RULES = {
  'run-as-non-root': 'every container runs as non-root (runAsNonRoot: true, on the pod or the container)',
  'read-only-root-filesystem': 'every container has readOnlyRootFilesystem: true',
  'no-privilege-escalation': 'every container has allowPrivilegeEscalation: false and is not privileged',
  'drop-all-capabilities': 'every container drops ALL capabilities',
  'seccomp-runtime-default':
    'every container runs under the RuntimeDefault seccomp profile (pod or container)',
  resources: 'every container requests and limits both cpu and memory',
  probes: 'every container of a long-running workload has a liveness and a readiness probe',
  'image-tag': 'every image names a tag other than latest (or a digest)',
  'image-pull-policy':
    'images loaded into the cluster (saga-lab/*) are never pulled: imagePullPolicy is not Always',
  'service-account-token':
    'every ServiceAccount sets automountServiceAccountToken: false, and no pod gets a token it did not ask for',
  'committed-secret': 'no Secret with data is committed under k8s/ (secrets come from generated files)',
  'memory-budget': 'the memory the kind overlay requests fits the local cluster',
} as const;

export type RuleId = keyof typeof RULES;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const record = (value: unknown): Record<string, unknown> => (isObject(value) ? value : {});
const list = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? value.filter(isObject) : [];

export function objectName(object: K8sObject): string {
  const metadata = record(object['metadata']);
  const namespace = typeof metadata['namespace'] === 'string' ? `${metadata['namespace']}/` : '';
  return `${String(object['kind'])} ${namespace}${String(metadata['name'])}`;
}

/** Kinds whose pods are meant to keep running (as opposed to Jobs and CronJobs, which finish). */
const LONG_RUNNING = new Set([
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
  'ReplicationController',
  'Pod',
]);

/** The pod spec an object creates, if any. */
export function podSpecOf(object: K8sObject): Record<string, unknown> | undefined {
  const spec = record(object['spec']);
  switch (object['kind']) {
    case 'Pod':
      return spec;
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'ReplicationController':
    case 'Job':
      return record(record(spec['template'])['spec']);
    case 'CronJob':
      return record(record(record(record(spec['jobTemplate'])['spec'])['template'])['spec']);
    default:
      return undefined;
  }
}

export interface ContainerRef {
  readonly container: Record<string, unknown>;
  readonly name: string;
  /** Init containers run to completion first, except native sidecars (restartPolicy: Always). */
  readonly init: boolean;
  readonly sidecar: boolean;
}

export function containersOf(pod: Record<string, unknown>): ContainerRef[] {
  const init = list(pod['initContainers']).map((container) => ({
    container,
    name: String(container['name']),
    init: true,
    sidecar: container['restartPolicy'] === 'Always',
  }));
  const main = list(pod['containers']).map((container) => ({
    container,
    name: String(container['name']),
    init: false,
    sidecar: false,
  }));
  return [...init, ...main];
}

/** Splits an image reference into its name, tag and digest (`host:5000/a/b:1.0@sha256:…`). */
export function parseImage(image: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest = '', digest] = image.split('@');
  const slash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.lastIndexOf(':');
  // A colon before the last slash belongs to a registry's port, not to a tag.
  const hasTag = colon > slash;
  return {
    name: hasTag ? withoutDigest.slice(0, colon) : withoutDigest,
    ...(hasTag ? { tag: withoutDigest.slice(colon + 1) } : {}),
    ...(digest ? { digest } : {}),
  };
}

const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const SUFFIX: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes quantity (`256Mi`, `1.5Gi`, `500m`, `1e9`, 2) as a plain number; undefined if malformed. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  return Number(match[1]) * (match[2] ? (SUFFIX[match[2]] ?? 1) : 1);
}

function containerFindings(object: K8sObject, pod: Record<string, unknown>): Finding[] {
  const findings: Finding[] = [];
  const podSecurity = record(pod['securityContext']);
  const longRunning = LONG_RUNNING.has(String(object['kind']));
  for (const { container, name, init, sidecar } of containersOf(pod)) {
    const where = `${objectName(object)} container ${name}`;
    const add = (rule: RuleId, message: string): void => {
      findings.push({ rule, object: where, message });
    };
    const security = record(container['securityContext']);
    const runAsNonRoot = security['runAsNonRoot'] ?? podSecurity['runAsNonRoot'];
    const runAsUser = security['runAsUser'] ?? podSecurity['runAsUser'];
    if (runAsNonRoot !== true)
      add('run-as-non-root', 'runAsNonRoot is not true (set it on the pod or the container)');
    else if (runAsUser === 0)
      add('run-as-non-root', 'runAsUser is 0 while runAsNonRoot is true: it cannot start');
    if (security['readOnlyRootFilesystem'] !== true) {
      add(
        'read-only-root-filesystem',
        'readOnlyRootFilesystem is not true (mount an emptyDir where it writes)',
      );
    }
    if (security['allowPrivilegeEscalation'] !== false) {
      add('no-privilege-escalation', 'allowPrivilegeEscalation is not false');
    }
    if (security['privileged'] === true) add('no-privilege-escalation', 'the container is privileged');
    const drop = record(security['capabilities'])['drop'];
    if (!Array.isArray(drop) || !drop.includes('ALL')) {
      add('drop-all-capabilities', 'capabilities.drop does not include ALL');
    }
    const seccomp =
      record(security['seccompProfile'])['type'] ?? record(podSecurity['seccompProfile'])['type'];
    if (seccomp !== 'RuntimeDefault') {
      add(
        'seccomp-runtime-default',
        `seccompProfile.type is ${seccomp === undefined ? 'not set' : String(seccomp)}, not RuntimeDefault`,
      );
    }
    const resources = record(container['resources']);
    const missing = (['requests', 'limits'] as const).flatMap((kind) =>
      (['cpu', 'memory'] as const)
        .filter((resource) => parseQuantity(record(resources[kind])[resource]) === undefined)
        .map((resource) => `${kind}.${resource}`),
    );
    if (missing.length > 0) add('resources', `no ${missing.join(', ')}`);
    if (longRunning && (!init || sidecar)) {
      const probes = (['livenessProbe', 'readinessProbe'] as const).filter((p) => !isObject(container[p]));
      if (probes.length > 0) add('probes', `no ${probes.join(' and ')}`);
    }
    const image = container['image'];
    if (typeof image !== 'string' || image === '') add('image-tag', 'no image');
    else {
      const { name: imageName, tag, digest } = parseImage(image);
      if (!digest && (tag === undefined || tag === 'latest')) {
        add('image-tag', `${image} ${tag ? 'is latest' : 'has no tag'}: pin a version`);
      }
      if (imageName.startsWith('saga-lab/') && container['imagePullPolicy'] === 'Always') {
        add('image-pull-policy', `${image} is loaded into the cluster, never pushed: use IfNotPresent`);
      }
    }
  }
  return findings;
}

/** Whether a pod gets an API token: its own setting first, then its ServiceAccount's, else Kubernetes' default (yes). */
function tokenFindings(
  object: K8sObject,
  pod: Record<string, unknown>,
  accounts: Map<string, K8sObject>,
): Finding[] {
  if (pod['automountServiceAccountToken'] !== undefined) return []; // the pod says what it wants, either way
  const namespace = String(record(object['metadata'])['namespace'] ?? '');
  const accountName = typeof pod['serviceAccountName'] === 'string' ? pod['serviceAccountName'] : 'default';
  const account = accounts.get(`${namespace}/${accountName}`);
  if (account?.['automountServiceAccountToken'] === false) return [];
  return [
    {
      rule: 'service-account-token',
      object: objectName(object),
      message: account
        ? `its ServiceAccount ${accountName} mounts an API token: set automountServiceAccountToken: false on one of them`
        : `it runs as the ServiceAccount ${accountName}, not defined here, which mounts an API token by default: set automountServiceAccountToken: false on the pod`,
    },
  ];
}

/** Every rule that reads one rendering's objects on their own. */
export function checkObjects(objects: readonly K8sObject[]): Finding[] {
  const accounts = new Map<string, K8sObject>();
  const findings: Finding[] = [];
  for (const object of objects) {
    if (object['kind'] !== 'ServiceAccount') continue;
    const metadata = record(object['metadata']);
    accounts.set(`${String(metadata['namespace'] ?? '')}/${String(metadata['name'])}`, object);
    if (object['automountServiceAccountToken'] !== false) {
      findings.push({
        rule: 'service-account-token',
        object: objectName(object),
        message: 'automountServiceAccountToken is not false',
      });
    }
  }
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    findings.push(...containerFindings(object, pod), ...tokenFindings(object, pod, accounts));
  }
  return findings;
}

/**
 * Secrets committed under k8s/: any `kind: Secret` document with data or stringData, in the source files
 * themselves (generated secrets never are: their files are not committed).
 */
export function committedSecrets(documents: readonly { file: string; object: unknown }[]): Finding[] {
  return documents
    .filter(({ object }) => isObject(object) && object['kind'] === 'Secret')
    .filter(({ object }) => {
      const secret = record(object);
      return (
        Object.keys(record(secret['data'])).length > 0 || Object.keys(record(secret['stringData'])).length > 0
      );
    })
    .map(({ file, object }) => ({
      rule: 'committed-secret' as const,
      object: `${objectName(record(object))} in ${file}`,
      message:
        'a Secret with data is committed: generate it (secretGenerator from an uncommitted file) instead',
    }));
}

export interface MemoryLine {
  readonly object: string;
  readonly replicas: number;
  /** What one pod requests, in bytes. */
  readonly perPod: number;
}

/**
 * The memory requests a rendering adds up to when everything in it runs: each workload's pods at the
 * replicas it starts with (an HPA's minReplicas when higher), a pod counting its containers and sidecars,
 * or its largest init container if that is more (init containers run before, not beside, the rest).
 * DaemonSets count once per node.
 */
export function memoryRequests(
  objects: readonly K8sObject[],
  nodes = 1,
): { total: number; lines: MemoryLine[] } {
  const hpaMinimum = new Map<string, number>();
  for (const object of objects) {
    if (object['kind'] !== 'HorizontalPodAutoscaler') continue;
    const spec = record(object['spec']);
    const target = record(spec['scaleTargetRef']);
    const namespace = String(record(object['metadata'])['namespace'] ?? '');
    hpaMinimum.set(
      `${String(target['kind'])}/${namespace}/${String(target['name'])}`,
      Number(spec['minReplicas'] ?? 1),
    );
  }
  const lines: MemoryLine[] = [];
  for (const object of objects) {
    const pod = podSpecOf(object);
    if (!pod) continue;
    const request = (c: Record<string, unknown>): number =>
      parseQuantity(record(record(c['resources'])['requests'])['memory']) ?? 0;
    const containers = containersOf(pod);
    const running = containers
      .filter((c) => !c.init || c.sidecar)
      .reduce((sum, c) => sum + request(c.container), 0);
    const largestInit = Math.max(
      0,
      ...containers.filter((c) => c.init && !c.sidecar).map((c) => request(c.container)),
    );
    const spec = record(object['spec']);
    const metadata = record(object['metadata']);
    const key = `${String(object['kind'])}/${String(metadata['namespace'] ?? '')}/${String(metadata['name'])}`;
    let replicas: number;
    switch (object['kind']) {
      case 'Pod':
        replicas = 1;
        break;
      case 'DaemonSet':
        replicas = nodes;
        break;
      case 'Job':
        replicas = Number(spec['parallelism'] ?? 1);
        break;
      case 'CronJob':
        replicas = Number(record(record(spec['jobTemplate'])['spec'])['parallelism'] ?? 1);
        break;
      default:
        replicas = Math.max(Number(spec['replicas'] ?? 1), hpaMinimum.get(key) ?? 0);
    }
    lines.push({ object: objectName(object), replicas, perPod: Math.max(running, largestInit) });
  }
  return { total: lines.reduce((sum, line) => sum + line.replicas * line.perPod, 0), lines };
}

export const GIB = 2 ** 30;

/** Formats bytes as MiB or GiB, the way the manifests write them. */
export function formatBytes(bytes: number): string {
  return bytes >= GIB ? `${(bytes / GIB).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
