import { checkKindCluster, kindNodeCount } from './kind-config';

const good = () => ({
  kind: 'Cluster',
  apiVersion: 'kind.x-k8s.io/v1alpha4',
  name: 'saga-lab',
  nodes: [
    {
      role: 'control-plane',
      labels: { 'ingress-ready': 'true' },
      extraPortMappings: [{ containerPort: 443, hostPort: 443, listenAddress: '127.0.0.1', protocol: 'TCP' }],
    },
  ],
});

describe('kind cluster configuration', () => {
  it('accepts a one-node cluster publishing on loopback', () => {
    expect(checkKindCluster(good())).toEqual([]);
    expect(checkKindCluster({ kind: 'Cluster', apiVersion: 'kind.x-k8s.io/v1alpha4' })).toEqual([]);
  });

  it.each([
    [
      'another apiVersion',
      { apiVersion: 'kind.x-k8s.io/v1alpha3' },
      /apiVersion is kind\.x-k8s\.io\/v1alpha3/,
    ],
    ['another kind', { kind: 'Config' }, /kind is Config, not Cluster/],
    ['a misspelt field', { node: [] }, /cluster: unknown field node/],
    ['an invalid name', { name: 'Saga_Lab' }, /name Saga_Lab is not a valid cluster name/],
    ['no nodes', { nodes: [] }, /nodes is not a non-empty list/],
    ['only workers', { nodes: [{ role: 'worker' }] }, /no control-plane node/],
    ['an unknown role', { nodes: [{ role: 'master' }] }, /role is master/],
    [
      'a label that is not a string',
      { nodes: [{ role: 'control-plane', labels: { 'ingress-ready': true } }] },
      /labels is not a mapping of strings/,
    ],
    [
      'a node image without a version',
      { nodes: [{ role: 'control-plane', image: 'kindest/node' }] },
      /image names no version/,
    ],
    [
      'a port on every address',
      { nodes: [{ role: 'control-plane', extraPortMappings: [{ containerPort: 80, hostPort: 80 }] }] },
      /listenAddress is not set \(every address\)/,
    ],
    [
      'a port on a public address',
      {
        nodes: [
          { role: 'control-plane', extraPortMappings: [{ containerPort: 80, listenAddress: '0.0.0.0' }] },
        ],
      },
      /listenAddress is 0\.0\.0\.0/,
    ],
    [
      'a port that is not one',
      {
        nodes: [
          {
            role: 'control-plane',
            extraPortMappings: [{ containerPort: 70000, listenAddress: '127.0.0.1' }],
          },
        ],
      },
      /containerPort is not a port number/,
    ],
    [
      'a misspelt mapping field',
      {
        nodes: [
          {
            role: 'control-plane',
            extraPortMappings: [{ containerPort: 80, listenAddress: '127.0.0.1', hostport: 80 }],
          },
        ],
      },
      /unknown field hostport/,
    ],
    [
      'an API server on the network',
      { networking: { apiServerAddress: '0.0.0.0' } },
      /apiServerAddress is not a loopback address/,
    ],
  ])('reports %s', (_what, change, problem) => {
    expect(checkKindCluster({ ...good(), ...change }).join('\n')).toMatch(problem);
  });

  it('counts the nodes it creates', () => {
    expect(kindNodeCount(good())).toBe(1);
    expect(kindNodeCount({ nodes: [{ role: 'control-plane' }, { role: 'worker' }] })).toBe(2);
    expect(kindNodeCount({})).toBe(1);
  });
});
