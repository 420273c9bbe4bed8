/**
 * kind's cluster configuration (kind.x-k8s.io/v1alpha4 Cluster) is not a Kubernetes object, so no API
 * schema covers it: this checks the fields kind reads, strictly, as kubeconform does for the others — and
 * that every port it publishes listens on loopback only (kind's default is every address of the host).
 */

export const KIND_API_VERSION = 'kind.x-k8s.io/v1alpha4';

const CLUSTER_FIELDS = new Set([
  'kind',
  'apiVersion',
  'name',
  'nodes',
  'networking',
  'featureGates',
  'runtimeConfig',
  'kubeadmConfigPatches',
  'kubeadmConfigPatchesJSON6902',
  'containerdConfigPatches',
  'containerdConfigPatchesJSON6902',
]);
const NODE_FIELDS = new Set([
  'role',
  'image',
  'labels',
  'extraMounts',
  'extraPortMappings',
  'kubeadmConfigPatches',
  'kubeadmConfigPatchesJSON6902',
]);
const PORT_MAPPING_FIELDS = new Set(['containerPort', 'hostPort', 'listenAddress', 'protocol']);
const NETWORKING_FIELDS = new Set([
  'ipFamily',
  'apiServerPort',
  'apiServerAddress',
  'podSubnet',
  'serviceSubnet',
  'disableDefaultCNI',
  'kubeProxyMode',
  'dnsSearch',
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isPort = (value: unknown): boolean =>
  Number.isInteger(value) && Number(value) >= 1 && Number(value) <= 65535;
const isLoopback = (address: unknown): boolean =>
  typeof address === 'string' && (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || address === '::1');

function unknownFields(
  object: Record<string, unknown>,
  allowed: ReadonlySet<string>,
  where: string,
): string[] {
  return Object.keys(object)
    .filter((key) => !allowed.has(key))
    .map((key) => `${where}: unknown field ${key}`);
}

/** Problems with one kind cluster configuration; none when it is as kind expects. */
export function checkKindCluster(config: unknown): string[] {
  if (!isObject(config)) return ['not a mapping'];
  const problems: string[] = [];
  if (config['apiVersion'] !== KIND_API_VERSION) {
    problems.push(`apiVersion is ${String(config['apiVersion'])}, not ${KIND_API_VERSION}`);
  }
  if (config['kind'] !== 'Cluster') problems.push(`kind is ${String(config['kind'])}, not Cluster`);
  problems.push(...unknownFields(config, CLUSTER_FIELDS, 'cluster'));
  if (config['name'] !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(String(config['name']))) {
    problems.push(`name ${String(config['name'])} is not a valid cluster name`);
  }
  if (config['networking'] !== undefined) {
    const networking = config['networking'];
    if (!isObject(networking)) problems.push('networking is not a mapping');
    else {
      problems.push(...unknownFields(networking, NETWORKING_FIELDS, 'networking'));
      if (networking['apiServerAddress'] !== undefined && !isLoopback(networking['apiServerAddress'])) {
        problems.push('networking.apiServerAddress is not a loopback address');
      }
    }
  }
  const nodes = config['nodes'];
  if (nodes === undefined) return problems; // kind's default: one control-plane node
  if (!Array.isArray(nodes) || nodes.length === 0) return [...problems, 'nodes is not a non-empty list'];
  nodes.forEach((node: unknown, index) => {
    const where = `nodes[${index}]`;
    if (!isObject(node)) {
      problems.push(`${where} is not a mapping`);
      return;
    }
    problems.push(...unknownFields(node, NODE_FIELDS, where));
    if (node['role'] !== 'control-plane' && node['role'] !== 'worker') {
      problems.push(`${where}.role is ${String(node['role'])}, not control-plane or worker`);
    }
    if (node['image'] !== undefined && !/[:@]/.test(String(node['image']).split('/').at(-1) ?? '')) {
      problems.push(`${where}.image names no version`);
    }
    if (node['labels'] !== undefined) {
      const labels = node['labels'];
      if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === 'string')) {
        problems.push(`${where}.labels is not a mapping of strings (quote "true")`);
      }
    }
    const mappings = node['extraPortMappings'] ?? [];
    if (!Array.isArray(mappings)) problems.push(`${where}.extraPortMappings is not a list`);
    else {
      mappings.forEach((mapping: unknown, m) => {
        const at = `${where}.extraPortMappings[${m}]`;
        if (!isObject(mapping)) {
          problems.push(`${at} is not a mapping`);
          return;
        }
        problems.push(...unknownFields(mapping, PORT_MAPPING_FIELDS, at));
        if (!isPort(mapping['containerPort'])) problems.push(`${at}.containerPort is not a port number`);
        if (mapping['hostPort'] !== undefined && !isPort(mapping['hostPort'])) {
          problems.push(`${at}.hostPort is not a port number`);
        }
        if (!isLoopback(mapping['listenAddress'])) {
          problems.push(
            `${at}.listenAddress is ${String(mapping['listenAddress'] ?? 'not set (every address)')}: publish on 127.0.0.1 only`,
          );
        }
        if (
          mapping['protocol'] !== undefined &&
          !['TCP', 'UDP', 'SCTP'].includes(String(mapping['protocol']))
        ) {
          problems.push(`${at}.protocol is ${String(mapping['protocol'])}, not TCP, UDP or SCTP`);
        }
      });
    }
  });
  if (!nodes.some((node: unknown) => isObject(node) && node['role'] === 'control-plane')) {
    problems.push('no control-plane node');
  }
  return problems;
}

/** The number of nodes a configuration creates (kind's default is one). */
export const kindNodeCount = (config: unknown): number =>
  isObject(config) && Array.isArray(config['nodes']) && config['nodes'].length > 0
    ? config['nodes'].length
    : 1;
