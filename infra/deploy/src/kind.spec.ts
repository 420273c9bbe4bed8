import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { loadVersions, type StackContext } from '@saga-lab/stack';
import { deployedImages, imageRef, imageSpecs } from './images';
import {
  CONTEXT,
  DeployError,
  KIND_CONSUL_OVERLAY,
  KIND_OVERLAY,
  LOAD_SCENARIOS,
  MAX_LOAD_DURATION_S,
  SECRETS_DIR,
  TOOLS,
  deployPlan,
  demoUsers,
  downPlan,
  kindSecretFiles,
  loadKustomization,
  loadPlan,
  missingTools,
  parseLoadArgs,
  requireTools,
  statusPlan,
  tlsCommand,
  upPlan,
  type Step,
  type UpFacts,
} from './kind';

const repoRoot = path.resolve(__dirname, '..', '..', '..');
const IMAGES = ['saga-lab/gateway:0.1.0', 'saga-lab/kafka:4.4.0'];

/** A counter instead of randomness: every generated value is distinct and predictable. */
function counter(): () => string {
  let n = 0;
  return () => `secret-value-${String(++n).padStart(4, '0')}`;
}

/** Each step as one short line: what the tests compare plans by. */
function outline(steps: readonly Step[]): string[] {
  return steps.map((step) => {
    switch (step.kind) {
      case 'run': {
        // kubectl's `--context kind-saga-lab [--namespace saga-lab]` is checked apart (see below).
        const args =
          step.argv[0] === 'kubectl'
            ? step.argv.slice(step.argv[3] === '--namespace' ? 5 : 3)
            : step.argv.slice(1);
        return `${step.argv[0]} ${args.slice(0, 4).join(' ')}`;
      }
      case 'write-secrets':
        return `write-secrets ${step.dir}`;
      case 'write-file':
        return `write-file ${path.basename(step.file)}`;
      case 'wait-job':
        return `wait-job ${step.job}`;
      case 'print':
        return `print ${step.text.split('\n')[0]}`;
    }
  });
}

const allRuns = (steps: readonly Step[]): (readonly string[])[] =>
  steps.flatMap((step) =>
    step.kind === 'run' ? [step.argv] : step.kind === 'wait-job' ? allRuns(step.afterwards) : [],
  );

const fresh: UpFacts = {
  clusterExists: false,
  ingressInstalled: false,
  secretsPresent: false,
  tlsPresent: false,
};

describe('the tools a command needs', () => {
  const without =
    (...absent: string[]) =>
    (tool: string): string | undefined =>
      absent.includes(tool) ? undefined : `/usr/bin/${tool}`;

  it('names every missing tool, what it is needed for and how to install it, in one sentence each', () => {
    let error: unknown;
    try {
      requireTools('up', without('kind', 'kubectl'));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DeployError);
    const { message, fix } = error as DeployError;
    expect(message).toBe(
      '`kind` and `kubectl` were not found on PATH; `npm run kind -- up` needs them to create the kind cluster, build the images and deploy Saga Lab to it.',
    );
    expect(fix).toMatch(/^Install kind 0\.30 or newer \(`go install sigs\.k8s\.io\/kind@v0\.30\.0`/);
    expect(fix).toContain('kubectl (');
    expect(fix).toMatch(/then run the command again\.$/);
  });

  it('says "it" for one tool', () => {
    expect(() => requireTools('down', without('kind'))).toThrow(
      '`kind` was not found on PATH; `npm run kind -- down` needs it to delete the kind cluster.',
    );
  });

  it('asks only for what the command runs: status and load need kubectl alone', () => {
    expect(missingTools('status', without('docker', 'kind', 'openssl'))).toEqual([]);
    expect(missingTools('load', without('docker', 'kind', 'openssl'))).toEqual([]);
    expect(missingTools('deploy', without('openssl'))).toEqual([]);
    expect(missingTools('up', without('openssl'))).toEqual(['openssl']);
    expect(() => requireTools('up', without())).not.toThrow();
  });

  it('checks, before anything runs, every program a plan runs', () => {
    const plans: Record<string, readonly Step[]> = {
      up: upPlan({ ...fresh, ingressManifest: '/m.yaml' }, { consul: true, images: IMAGES, users: [] }),
      deploy: deployPlan({ consul: false, images: IMAGES, users: [], ingress: false }),
      status: statusPlan(),
      load: loadPlan({ scenario: 'read', rate: 1, durationS: 1 }, '/tmp/run', repoRoot),
      down: downPlan(),
    };
    for (const [command, steps] of Object.entries(plans)) {
      // npm is how the command itself was started; docker is run by kind and the image build.
      const programs = [...new Set(allRuns(steps).map((argv) => argv[0] as string))].filter(
        (p) => p !== 'npm',
      );
      const checked = TOOLS[command as keyof typeof TOOLS];
      expect({
        command,
        unchecked: programs.filter((p) => !(checked as readonly string[]).includes(p)),
      }).toEqual({
        command,
        unchecked: [],
      });
    }
  });
});

describe('up', () => {
  it('on a fresh machine: cluster, secrets, certificate, the ingress hint, images, then the deploy', () => {
    const steps = upPlan(fresh, { consul: false, images: IMAGES, users: [] }, kindSecretFiles(counter()));
    expect(outline(steps)).toEqual([
      'kind create cluster --name saga-lab',
      `write-secrets ${SECRETS_DIR}`,
      'openssl req -x509 -newkey ec',
      'print ingress-nginx is not installed, and it is not downloaded here. Install it once with',
      'npm run images -- build',
      'kind load docker-image --name saga-lab',
      `kubectl apply --kustomize ${KIND_OVERLAY}`,
      'kubectl delete deployment,service,serviceaccount,networkpolicy --selector app.kubernetes.io/name=consul',
      'kubectl rollout status statefulset/postgres --timeout=10m',
      'kubectl rollout status statefulset/kafka --timeout=10m',
      'kubectl rollout status deployment/redis --timeout=10m',
      'kubectl rollout status deployment/zipkin --timeout=10m',
      'kubectl rollout status deployment/inventory --timeout=10m',
      'kubectl rollout status deployment/payment --timeout=10m',
      'kubectl rollout status deployment/order --timeout=10m',
      'kubectl rollout status deployment/gateway --timeout=10m',
      'kubectl rollout status deployment/prometheus --timeout=10m',
      'print Public API      no ingress controller yet: kubectl --context kind-saga-lab -n saga-lab port-forward svc/gateway 3000, then http://localhost:3000/v1',
    ]);
    expect(steps[0]).toMatchObject({
      argv: expect.arrayContaining(['--config', `${KIND_OVERLAY}/kind-cluster.yaml`]),
    });
  });

  it('prints the demo passwords it has just generated', () => {
    const secrets = kindSecretFiles(counter());
    const alice = demoUsers(secrets['gateway.env']).find((u) => u.username === 'alice');
    const last = upPlan(fresh, { consul: false, images: IMAGES, users: [] }, secrets).at(-1);
    expect(last?.kind === 'print' && last.text).toContain(`alice / ${alice?.password} (customer)`);
  });

  it('creates nothing that exists: a second run builds and deploys only', () => {
    const steps = upPlan(
      { clusterExists: true, ingressInstalled: true, secretsPresent: true, tlsPresent: true },
      { consul: false, images: IMAGES, users: [] },
    );
    expect(outline(steps).slice(0, 3)).toEqual([
      'npm run images -- build',
      'kind load docker-image --name saga-lab',
      `kubectl apply --kustomize ${KIND_OVERLAY}`,
    ]);
    expect(steps.some((s) => s.kind === 'print' && s.text.includes('ingress-nginx is not installed'))).toBe(
      false,
    );
    const last = steps.at(-1);
    expect(last?.kind === 'print' && last.text).toContain('https://localhost/v1');
  });

  it('installs ingress-nginx from a given manifest and waits for it before the Ingress is applied', () => {
    const lines = outline(
      upPlan(
        {
          ...fresh,
          clusterExists: true,
          secretsPresent: true,
          tlsPresent: true,
          ingressManifest: '/x/deploy.yaml',
        },
        { consul: false, images: IMAGES, users: [] },
      ),
    );
    expect(lines.slice(0, 3)).toEqual([
      'kubectl apply --filename /x/deploy.yaml',
      'kubectl wait --namespace ingress-nginx --for=condition=ready',
      'npm run images -- build',
    ]);
  });

  it('writes the secrets it plans, into the kind overlay', () => {
    const secrets = kindSecretFiles(counter());
    const step = upPlan(fresh, { consul: false, images: IMAGES, users: [] }, secrets).find(
      (s) => s.kind === 'write-secrets',
    );
    expect(step).toMatchObject({ dir: 'k8s/overlays/kind/secrets', files: secrets });
  });
});

describe('deploy', () => {
  it('with Consul: applies the kind-consul overlay, keeps Consul, and waits for it before the services', () => {
    const lines = outline(deployPlan({ consul: true, images: IMAGES, users: [], ingress: true }));
    expect(lines[1]).toBe(`kubectl apply --kustomize ${KIND_CONSUL_OVERLAY}`);
    expect(lines.some((l) => l.startsWith('kubectl delete'))).toBe(false);
    expect(lines.indexOf('kubectl rollout status deployment/consul --timeout=10m')).toBeLessThan(
      lines.indexOf('kubectl rollout status deployment/inventory --timeout=10m'),
    );
    const last = deployPlan({ consul: true, images: IMAGES, users: [], ingress: true }).at(-1);
    expect(last?.kind === 'print' && last.text).toContain('port-forward svc/consul 8500');
  });

  it('loads every image it is given into the saga-lab node', () => {
    const [load] = deployPlan({ consul: false, images: IMAGES, users: [], ingress: true });
    expect(load).toMatchObject({ argv: ['kind', 'load', 'docker-image', '--name', 'saga-lab', ...IMAGES] });
  });

  it('never uses the current kubectl context: every kubectl call names the kind cluster', () => {
    const runs = allRuns([
      ...upPlan({ ...fresh, ingressManifest: '/m.yaml' }, { consul: true, images: IMAGES, users: [] }),
      ...statusPlan(),
      ...loadPlan({ scenario: 'orders', rate: 5, durationS: 10 }, '/tmp/run', repoRoot),
    ]).filter((argv) => argv[0] === 'kubectl');
    expect(runs.length).toBeGreaterThan(10);
    for (const argv of runs) expect(argv.slice(0, 3)).toEqual(['kubectl', '--context', CONTEXT]);
  });
});

describe('down', () => {
  it('deletes the saga-lab cluster and nothing else', () => {
    expect(downPlan()).toMatchObject([{ argv: ['kind', 'delete', 'cluster', '--name', 'saga-lab'] }]);
  });
});

describe('the generated secrets', () => {
  const secrets = kindSecretFiles();
  const keysOf = (text: string): string[] =>
    text
      .split('\n')
      .filter((line) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(line))
      .map((line) => line.slice(0, line.indexOf('=')));
  const value = (text: string, key: string): string =>
    (text.split('\n').find((line) => line.startsWith(`${key}=`)) ?? '').slice(key.length + 1);

  it('are the files the kind overlay reads, with the keys its committed examples name', () => {
    const dir = path.join(repoRoot, SECRETS_DIR);
    const examples = readdirSync(dir).filter((file) => file.endsWith('.env.example'));
    expect(Object.keys(secrets).sort()).toEqual(
      examples.map((file) => file.replace(/\.example$/, '')).sort(),
    );
    for (const [file, text] of Object.entries(secrets))
      expect(keysOf(text)).toEqual(keysOf(readFileSync(path.join(dir, `${file}.example`), 'utf8')));
    const kustomization = readFileSync(path.join(repoRoot, KIND_OVERLAY, 'kustomization.yaml'), 'utf8');
    for (const file of Object.keys(secrets)) expect(kustomization).toContain(`secrets/${file}`);
  });

  it('fit what the gateway validates: a key of 32 characters or more, users with 8-character passwords', () => {
    expect(value(secrets['gateway.env'] as string, 'GATEWAY_JWT_SECRET').length).toBeGreaterThanOrEqual(32);
    const users = JSON.parse(value(secrets['gateway.env'] as string, 'GATEWAY_USERS')) as Record<
      string,
      string
    >[];
    expect(users.map((u) => u.username)).toEqual(['alice', 'bob', 'admin', 'load']);
    for (const user of users) {
      expect(user['username']).toMatch(/^[a-z0-9][a-z0-9._-]{1,63}$/);
      expect(user['password']?.length).toBeGreaterThanOrEqual(8);
      expect(['customer', 'admin']).toContain(user['role']);
      if (user['role'] === 'customer') expect(user['customerId']).toBe(`c-${user['username']}`);
    }
  });

  it('give the load Job a customer the gateway knows', () => {
    const users = demoUsers(secrets['gateway.env']);
    const load = secrets['load-credentials.env'] as string;
    const user = users.find((u) => u.username === value(load, 'LOAD_USER'));
    expect(user).toMatchObject({ role: 'customer', password: value(load, 'LOAD_PASSWORD') });
  });

  it('are URL-safe where they go into a database URL, and new on every call', () => {
    for (const file of ['order-database.env', 'inventory-database.env', 'payment-database.env'])
      expect(value(secrets[file] as string, 'password')).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(kindSecretFiles()['postgres.env']).not.toBe(secrets['postgres.env']);
  });

  it('come with a self-signed certificate for localhost, written beside them', () => {
    const argv = tlsCommand(SECRETS_DIR);
    expect(argv.slice(0, 3)).toEqual(['openssl', 'req', '-x509']);
    expect(argv).toEqual(
      expect.arrayContaining(['-nodes', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
    );
    expect(argv[argv.indexOf('-keyout') + 1]).toBe(`${SECRETS_DIR}/tls.key`);
    expect(argv[argv.indexOf('-out') + 1]).toBe(`${SECRETS_DIR}/tls.crt`);
  });
});

describe('load', () => {
  it('takes a scenario with its defaults, or the rate and duration given', () => {
    expect(parseLoadArgs(['read'])).toEqual({ scenario: 'read', rate: 40, durationS: 60 });
    expect(parseLoadArgs(['orders', '--rate', '25', '--duration', '30'])).toEqual({
      scenario: 'orders',
      rate: 25,
      durationS: 30,
    });
  });

  it.each([
    [[], 'load needs a scenario.'],
    [['nope'], 'There is no load scenario nope.'],
    [['read', '--rate', '0'], '--rate needs a positive whole number.'],
    [['read', '--duration', 'x'], '--duration needs a positive whole number.'],
    [['read', '--fast'], 'Unknown option --fast for load.'],
    [
      ['read', '--duration', String(MAX_LOAD_DURATION_S + 1)],
      `--duration ${MAX_LOAD_DURATION_S + 1} is longer`,
    ],
  ])('refuses %j: %s', (args, message) => {
    expect(() => parseLoadArgs(args)).toThrow(message);
  });

  it('replaces the previous Job, applies k8s/load with the run’s settings, waits, then shows each step’s output', () => {
    const runDir = path.join('/tmp', 'saga-lab-load-x');
    const steps = loadPlan({ scenario: 'orders', rate: 12, durationS: 30 }, runDir, '/repo');
    expect(outline(steps)).toEqual([
      'write-file kustomization.yaml',
      'kubectl delete job load --ignore-not-found',
      `kubectl apply --kustomize ${runDir}`,
      'wait-job load',
    ]);
    const wait = steps[3];
    expect(wait?.kind === 'wait-job' && outline(wait.afterwards)).toEqual([
      'kubectl logs job/load --container prepare',
      'kubectl logs job/load --container attack',
      'kubectl logs job/load --container report',
    ]);
    expect(wait?.kind === 'wait-job' && wait.timeoutS).toBeGreaterThan(30);
    const write = steps[0];
    expect(write?.kind === 'write-file' && write.content).toBe(
      loadKustomization(path.relative(runDir, '/repo/k8s/load'), {
        scenario: 'orders',
        rate: 12,
        durationS: 30,
      }),
    );
  });

  it('merges the run’s settings into the load-run ConfigMap of k8s/load, reached by a relative path', () => {
    const text = loadKustomization('../../repo/k8s/load', { scenario: 'list', rate: 7, durationS: 9 });
    expect(text).toContain('resources:\n  - ../../repo/k8s/load\n');
    expect(text).toContain(
      '  - name: load-run\n    behavior: merge\n    literals:\n      - SCENARIO=list\n      - RATE=7\n      - DURATION_S=9\n',
    );
    // The keys the committed defaults have, so a merge overrides each of them.
    const committed = readFileSync(path.join(repoRoot, 'k8s', 'load', 'kustomization.yaml'), 'utf8');
    for (const key of ['SCENARIO', 'RATE', 'DURATION_S']) expect(committed).toContain(`- ${key}=`);
  });

  it('knows exactly the scenarios the Job’s script builds requests for', () => {
    const script = readFileSync(path.join(repoRoot, 'k8s', 'load', 'prepare.mjs'), 'utf8');
    const body = /const SCENARIOS = \{([\s\S]*?)\n\};/.exec(script)?.[1] ?? '';
    const inScript = [...body.matchAll(/^ {2}(\w+): function\*/gm)].map((m) => m[1]);
    expect(inScript.sort()).toEqual(Object.keys(LOAD_SCENARIOS).sort());
  });
});

describe('the manifests and the images', () => {
  /** Every YAML file under k8s/, recursively. */
  const yamlFiles = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(file);
      return /\.ya?ml$/.test(entry.name) ? [file] : [];
    });

  it('run exactly the images `npm run images` builds and `kind load` loads', () => {
    const ctx = { versions: loadVersions(repoRoot), paths: { repoRoot } } as unknown as StackContext;
    const built = deployedImages(imageSpecs(ctx, 'upstream')).map(imageRef).sort();
    const used = new Set<string>();
    for (const file of yamlFiles(path.join(repoRoot, 'k8s')))
      for (const match of readFileSync(file, 'utf8').matchAll(/^\s*image:\s*(\S+)\s*$/gm))
        used.add(match[1] as string);
    expect([...used].sort()).toEqual(built);
  });

  it('configure each service only with variables it reads', () => {
    // Where each service's configuration is declared: its own schema and the shared fields it spreads in.
    const shared = [
      'libs/runtime/src/config.ts',
      'libs/observability/src/logging.ts',
      'libs/observability/src/tracing.ts',
    ];
    const component = parse(
      readFileSync(
        path.join(repoRoot, 'k8s', 'components', 'consul-discovery', 'kustomization.yaml'),
        'utf8',
      ),
    ) as { configMapGenerator: { name: string; literals?: string[] }[] };
    for (const service of ['gateway', 'order', 'inventory', 'payment']) {
      const sources = [`apps/${service}/src/config.ts`, ...shared]
        .map((file) => readFileSync(path.join(repoRoot, file), 'utf8'))
        .join('\n');
      const env = readFileSync(path.join(repoRoot, 'k8s', 'base', 'services', `${service}.env`), 'utf8');
      const manifest = readFileSync(
        path.join(repoRoot, 'k8s', 'base', 'services', `${service}.yaml`),
        'utf8',
      );
      const keys = [
        ...env.split('\n').flatMap((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] ?? []),
        ...(component.configMapGenerator.find((g) => g.name === `${service}-config`)?.literals ?? []).map(
          (literal) => literal.slice(0, literal.indexOf('=')),
        ),
        ...[...manifest.matchAll(/- name: ([A-Z][A-Z0-9_]*)$/gm)].map((m) => m[1] as string),
      ];
      expect(keys.length).toBeGreaterThan(5);
      // The database password only feeds the URL the manifest assembles from it.
      const unknown = keys.filter(
        (key) => !key.endsWith('_DATABASE_PASSWORD') && !new RegExp(`\\b${key}: `).test(sources),
      );
      expect({ service, unknown }).toEqual({ service, unknown: [] });
    }
  });
});
