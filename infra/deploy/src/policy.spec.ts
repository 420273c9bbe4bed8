import {
  RULES,
  checkObjects,
  committedSecrets,
  formatBytes,
  memoryRequests,
  parseImage,
  parseQuantity,
  type K8sObject,
  type RuleId,
} from './policy';

/** A Deployment that passes every rule; each test breaks one thing in a copy. */
function goodDeployment(): K8sObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'order', namespace: 'saga-lab' },
    spec: {
      replicas: 2,
      template: {
        spec: {
          serviceAccountName: 'order',
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 10001,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          initContainers: [
            {
              name: 'migrate',
              image: 'saga-lab/order:0.1.0',
              resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
            },
          ],
          containers: [
            {
              name: 'order',
              image: 'saga-lab/order:0.1.0',
              imagePullPolicy: 'IfNotPresent',
              resources: {
                requests: { cpu: '100m', memory: '256Mi' },
                limits: { cpu: '1', memory: '512Mi' },
              },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              livenessProbe: { httpGet: { path: '/health/live', port: 3001 } },
              readinessProbe: { httpGet: { path: '/health/ready', port: 3001 } },
            },
          ],
        },
      },
    },
  };
}

const account = (automount: boolean | undefined, name = 'order'): K8sObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name, namespace: 'saga-lab' },
  ...(automount === undefined ? {} : { automountServiceAccountToken: automount }),
});

// The fixtures are edited field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

/** A good Deployment changed by `edit` (on its pod spec and main container). */
function deploymentWith(edit: (pod: Json, container: Json, object: Json) => void): K8sObject {
  const object = goodDeployment() as Json;
  const pod = object['spec']['template']['spec'] as Json;
  edit(pod, pod['containers'][0] as Json, object);
  return object;
}

const rules = (objects: K8sObject[]): RuleId[] => [...new Set(checkObjects(objects).map((f) => f.rule))];

describe('policy rules', () => {
  it('pass a Deployment that follows all of them, with its ServiceAccount', () => {
    expect(checkObjects([goodDeployment(), account(false)])).toEqual([]);
  });

  const broken: [RuleId, string, (pod: Json, container: Json, object: Json) => void][] = [
    [
      'run-as-non-root',
      'runAsNonRoot missing from pod and container',
      (pod) => delete pod['securityContext'].runAsNonRoot,
    ],
    [
      'run-as-non-root',
      'runAsNonRoot false on the container',
      (_p, c) => (c['securityContext'].runAsNonRoot = false),
    ],
    ['run-as-non-root', 'runAsUser 0', (_p, c) => (c['securityContext'].runAsUser = 0)],
    [
      'read-only-root-filesystem',
      'a writable root filesystem',
      (_p, c) => delete c['securityContext'].readOnlyRootFilesystem,
    ],
    [
      'no-privilege-escalation',
      'allowPrivilegeEscalation not set',
      (_p, c) => delete c['securityContext'].allowPrivilegeEscalation,
    ],
    [
      'no-privilege-escalation',
      'a privileged container',
      (_p, c) => (c['securityContext'].privileged = true),
    ],
    [
      'drop-all-capabilities',
      'only some capabilities dropped',
      (_p, c) => (c['securityContext'].capabilities = { drop: ['NET_RAW'] }),
    ],
    ['seccomp-runtime-default', 'no seccomp profile', (pod) => delete pod['securityContext'].seccompProfile],
    [
      'seccomp-runtime-default',
      'Unconfined on the container',
      (_p, c) => (c['securityContext'].seccompProfile = { type: 'Unconfined' }),
    ],
    ['resources', 'no cpu limit', (_p, c) => delete c['resources'].limits.cpu],
    ['resources', 'no requests', (_p, c) => delete c['resources'].requests],
    [
      'resources',
      'an init container without limits',
      (pod) => delete pod['initContainers'][0].resources.limits,
    ],
    ['probes', 'no readiness probe', (_p, c) => delete c['readinessProbe']],
    ['probes', 'no liveness probe', (_p, c) => delete c['livenessProbe']],
    ['image-tag', 'latest', (_p, c) => (c['image'] = 'saga-lab/order:latest')],
    ['image-tag', 'no tag', (_p, c) => (c['image'] = 'saga-lab/order')],
    ['image-tag', 'a registry port but no tag', (_p, c) => (c['image'] = 'registry:5000/saga-lab/order')],
    [
      'image-pull-policy',
      'Always for an image loaded into kind',
      (_p, c) => (c['imagePullPolicy'] = 'Always'),
    ],
    ['service-account-token', 'the default ServiceAccount', (pod) => delete pod['serviceAccountName']],
  ];
  it.each(broken)('%s fails on %s', (rule, _what, edit) => {
    expect(rules([deploymentWith(edit), account(false)])).toEqual([rule]);
  });

  it('names the object and the container in a finding', () => {
    const [finding] = checkObjects([deploymentWith((_p, c) => delete c['readinessProbe']), account(false)]);
    expect(finding).toEqual({
      rule: 'probes',
      object: 'Deployment saga-lab/order container order',
      message: 'no readinessProbe',
    });
  });

  it('accepts the security settings on the container instead of the pod', () => {
    const object = deploymentWith((pod, container) => {
      delete pod['securityContext'];
      Object.assign(container['securityContext'], {
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      Object.assign(pod['initContainers'][0].securityContext, {
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
    });
    expect(checkObjects([object, account(false)])).toEqual([]);
  });

  it('asks no probes of a Job, nor of a plain init container, but of a native sidecar', () => {
    const job = goodDeployment() as Json;
    job['kind'] = 'Job';
    delete job['spec'].template.spec.containers[0].livenessProbe;
    delete job['spec'].template.spec.containers[0].readinessProbe;
    expect(checkObjects([job, account(false)])).toEqual([]);
    const sidecar = deploymentWith((pod) => (pod['initContainers'][0].restartPolicy = 'Always'));
    expect(rules([sidecar, account(false)])).toEqual(['probes']);
  });

  it('checks the pods of a CronJob and of a bare Pod too', () => {
    const spec = (goodDeployment() as Json)['spec'].template.spec as Json;
    spec['containers'][0].image = 'saga-lab/order:latest';
    const cron = {
      kind: 'CronJob',
      metadata: { name: 'c', namespace: 'saga-lab' },
      spec: { jobTemplate: { spec: { template: { spec } } } },
    };
    const pod = { kind: 'Pod', metadata: { name: 'p', namespace: 'saga-lab' }, spec };
    expect(rules([cron, account(false)])).toEqual(['image-tag']);
    expect(rules([pod, account(false)])).toEqual(['image-tag']);
  });

  it('fails a ServiceAccount that mounts its token, and a pod that inherits it', () => {
    expect(checkObjects([goodDeployment(), account(undefined)]).map((f) => f.object)).toEqual([
      'ServiceAccount saga-lab/order',
      'Deployment saga-lab/order',
    ]);
    expect(rules([goodDeployment(), account(true)])).toEqual(['service-account-token']);
  });

  it('lets a pod say itself whether it wants a token', () => {
    const own = deploymentWith((pod) => {
      delete pod['serviceAccountName'];
      pod['automountServiceAccountToken'] = false;
    });
    expect(checkObjects([own])).toEqual([]);
  });

  it('ignores objects that run no pods', () => {
    expect(
      checkObjects([{ kind: 'Service', metadata: { name: 's' }, spec: {} }, { kind: 'ConfigMap' }]),
    ).toEqual([]);
  });

  it('documents every rule it can report', () => {
    expect(Object.keys(RULES)).toEqual(
      expect.arrayContaining(['committed-secret', 'memory-budget', 'probes']),
    );
  });
});

describe('committed secrets', () => {
  it('finds a Secret with data or stringData, not an empty one nor other kinds', () => {
    const documents = [
      {
        file: 'k8s/a.yaml',
        object: { kind: 'Secret', metadata: { name: 'a' }, data: { password: 'cGFzcw==' } },
      },
      {
        file: 'k8s/b.yaml',
        object: { kind: 'Secret', metadata: { name: 'b' }, stringData: { password: 'pass' } },
      },
      { file: 'k8s/c.yaml', object: { kind: 'Secret', metadata: { name: 'c' } } },
      { file: 'k8s/d.yaml', object: { kind: 'ConfigMap', metadata: { name: 'd' }, data: { a: '1' } } },
      { file: 'k8s/e.yaml', object: 'not an object' },
    ];
    expect(committedSecrets(documents)).toEqual([
      expect.objectContaining({ rule: 'committed-secret', object: 'Secret a in k8s/a.yaml' }),
      expect.objectContaining({ rule: 'committed-secret', object: 'Secret b in k8s/b.yaml' }),
    ]);
  });
});

describe('quantities and images', () => {
  it('parses Kubernetes quantities', () => {
    expect(parseQuantity('256Mi')).toBe(256 * 2 ** 20);
    expect(parseQuantity('1.5Gi')).toBe(1.5 * 2 ** 30);
    expect(parseQuantity('512M')).toBe(512e6);
    expect(parseQuantity('1e9')).toBe(1e9);
    expect(parseQuantity('100m')).toBeCloseTo(0.1);
    expect(parseQuantity(2)).toBe(2);
    expect(parseQuantity('12 apples')).toBeUndefined();
    expect(parseQuantity(undefined)).toBeUndefined();
  });

  it('splits image references, telling a registry port from a tag', () => {
    expect(parseImage('saga-lab/order:0.1.0')).toEqual({ name: 'saga-lab/order', tag: '0.1.0' });
    expect(parseImage('registry:5000/saga-lab/order')).toEqual({ name: 'registry:5000/saga-lab/order' });
    expect(parseImage('r:5000/o:1@sha256:ab')).toEqual({ name: 'r:5000/o', tag: '1', digest: 'sha256:ab' });
    expect(parseImage('o@sha256:ab')).toEqual({ name: 'o', digest: 'sha256:ab' });
  });

  it('formats bytes as the manifests write them', () => {
    expect(formatBytes(512 * 2 ** 20)).toBe('512 MiB');
    expect(formatBytes(4 * 2 ** 30)).toBe('4.00 GiB');
  });
});

describe('memory requests', () => {
  it('adds up replicas × pod requests, an HPA minimum above the replicas, init containers apart', () => {
    const deployment = goodDeployment(); // 2 × max(256Mi, init 128Mi)
    const hpa = {
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'order', namespace: 'saga-lab' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'order' }, minReplicas: 3 },
    };
    const job = deploymentWith((pod, _c, object) => {
      object['kind'] = 'Job';
      object['spec'] = { parallelism: 2, template: { spec: pod } };
      pod['initContainers'][0].resources.requests.memory = '1Gi'; // larger than the container: counts alone
    });
    const daemon = deploymentWith((_p, _c, object) => (object['kind'] = 'DaemonSet'));
    expect(memoryRequests([deployment]).total).toBe(2 * 256 * 2 ** 20);
    expect(memoryRequests([deployment, hpa]).total).toBe(3 * 256 * 2 ** 20);
    expect(memoryRequests([job]).total).toBe(2 * 2 ** 30);
    expect(memoryRequests([daemon], 3).total).toBe(3 * 256 * 2 ** 20);
    expect(memoryRequests([deployment, hpa]).lines).toEqual([
      { object: 'Deployment saga-lab/order', replicas: 3, perPod: 256 * 2 ** 20 },
    ]);
  });

  it('counts a native sidecar beside the containers', () => {
    const sidecar = deploymentWith((pod) => (pod['initContainers'][0].restartPolicy = 'Always'));
    expect(memoryRequests([sidecar]).total).toBe(2 * (256 + 128) * 2 ** 20);
  });
});
