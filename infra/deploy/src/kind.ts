/**
 * `npm run kind -- up|deploy|status|load|down`: Saga Lab on a local kind cluster (k8s/README.md).
 *
 * Each command is planned as data first — the programs to run, in order, with what they are for — by the
 * pure functions of this file, from facts about the machine gathered beforehand (does the cluster exist,
 * are the secrets written, is ingress-nginx installed). kind-cli.ts gathers the facts and carries a plan
 * out. The plans are what the unit tests check (kind.spec.ts), with no cluster and no Docker.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** The kind cluster, its kubectl context and the namespace everything lives in. */
export const CLUSTER = 'saga-lab';
/** Every kubectl call names this context: a plan never acts on whatever cluster is current. */
export const CONTEXT = `kind-${CLUSTER}`;
export const NAMESPACE = 'saga-lab';

/** Paths relative to the repository root. */
export const KIND_OVERLAY = 'k8s/overlays/kind';
export const KIND_CONSUL_OVERLAY = 'k8s/overlays/kind-consul';
export const KIND_CONFIG = `${KIND_OVERLAY}/kind-cluster.yaml`;
export const SECRETS_DIR = `${KIND_OVERLAY}/secrets`;
export const LOAD_KUSTOMIZATION = 'k8s/load';

/**
 * ingress-nginx is not vendored (a third party's manifest, and this command needs no network): the user
 * applies it once, or passes a downloaded copy with --ingress-manifest.
 */
export const INGRESS_NGINX_MANIFEST =
  'https://raw.githubusercontent.com/kubernetes/ingress-nginx/controller-v1.15.1/deploy/static/provider/kind/deploy.yaml';

export const COMMANDS = ['up', 'deploy', 'status', 'load', 'down'] as const;
export type Command = (typeof COMMANDS)[number];

/**
 * A failure the user can act on: one sentence saying what went wrong and one naming the fix (the shape of
 * the stack's StackError, printed the same way by kind-cli.ts).
 */
export class DeployError extends Error {
  constructor(
    message: string,
    readonly fix: string,
  ) {
    super(message);
    this.name = 'DeployError';
  }
}

// ---------------------------------------------------------------------------------------------- tools

export type Tool = 'docker' | 'kind' | 'kubectl' | 'openssl';

/** What each command runs: checked before anything is done, so a missing tool fails first and alone. */
export const TOOLS: Record<Command, readonly Tool[]> = {
  up: ['docker', 'kind', 'kubectl', 'openssl'],
  deploy: ['docker', 'kind', 'kubectl'],
  status: ['kubectl'],
  load: ['kubectl'],
  down: ['kind'],
};

const PURPOSE: Record<Command, string> = {
  up: 'create the kind cluster, build the images and deploy Saga Lab to it',
  deploy: 'load the images into the kind cluster and deploy Saga Lab to it',
  status: 'show what runs in the kind cluster',
  load: 'run a load Job in the kind cluster',
  down: 'delete the kind cluster',
};

/** How to get each tool; kind is a Go module, so the Go toolchain the stack uses can install it. */
export const INSTALL: Record<Tool, string> = {
  docker: 'Docker Engine (docs.docker.com/engine/install)',
  kind: 'kind 0.30 or newer (`go install sigs.k8s.io/kind@v0.30.0` puts it in $(go env GOPATH)/bin; or a release binary from kind.sigs.k8s.io)',
  kubectl: 'kubectl (your distribution’s package, or kubernetes.io/docs/tasks/tools)',
  openssl: 'OpenSSL (`apt-get install openssl`)',
};

/** The tools `command` needs that `which` cannot find, in the order they are listed. */
export function missingTools(command: Command, which: (tool: string) => string | undefined): Tool[] {
  return TOOLS[command].filter((tool) => which(tool) === undefined);
}

const list = (items: readonly string[]): string =>
  items.length <= 1
    ? items.join('')
    : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1] as string}`;

/** The error for missing tools: which, what for, and how to install each. */
export function missingToolsError(command: Command, missing: readonly Tool[]): DeployError {
  const names = list(missing.map((tool) => `\`${tool}\``));
  return new DeployError(
    `${names} ${missing.length === 1 ? 'was' : 'were'} not found on PATH; \`npm run kind -- ${command}\` needs ${missing.length === 1 ? 'it' : 'them'} to ${PURPOSE[command]}.`,
    `Install ${missing.map((tool) => INSTALL[tool]).join('; ')}, then run the command again.`,
  );
}

/** Throws the missing-tools error when `command` cannot run here. */
export function requireTools(command: Command, which: (tool: string) => string | undefined): void {
  const missing = missingTools(command, which);
  if (missing.length > 0) throw missingToolsError(command, missing);
}

// -------------------------------------------------------------------------------------------- secrets

/** The demo users; `load` is the load Job's customer, so its orders and rate limit are its own. */
const USERS = [
  { username: 'alice', role: 'customer', customerId: 'c-alice' },
  { username: 'bob', role: 'customer', customerId: 'c-bob' },
  { username: 'admin', role: 'admin' },
  { username: 'load', role: 'customer', customerId: 'c-load' },
] as const;

/** 18 random bytes as base64url: 24 characters, safe inside a URL (the database URLs carry them). */
export const randomSecret = (): string => randomBytes(18).toString('base64url');

/**
 * The secretGenerator files of overlays/kind, by file name in secrets/, with fresh random values. Their
 * keys are those of the committed `<file>.example` files (kind.spec.ts checks it). Written once per
 * machine: PostgreSQL sets its roles' passwords when its volume is first initialised, so later runs must
 * reuse the same values.
 */
export function kindSecretFiles(random: () => string = randomSecret): Record<string, string> {
  const users = USERS.map((user) => ({ ...user, password: random() }));
  const load = users.find((user) => user.username === 'load') as { password: string };
  return {
    // The gateway wants at least 32 characters (apps/gateway/src/config.ts).
    'gateway.env': `GATEWAY_JWT_SECRET=${random()}${random()}\nGATEWAY_USERS=${JSON.stringify(users)}\n`,
    'postgres.env': `password=${random()}\n`,
    'order-database.env': `password=${random()}\n`,
    'inventory-database.env': `password=${random()}\n`,
    'payment-database.env': `password=${random()}\n`,
    'load-credentials.env': `LOAD_USER=load\nLOAD_PASSWORD=${load.password}\n`,
  };
}

/** The files the TLS secret is generated from (`openssl`, see tlsCommand). */
export const TLS_FILES = ['tls.crt', 'tls.key'] as const;

/**
 * A self-signed certificate for localhost (and 127.0.0.1), valid a year; openssl writes the key readable by
 * its owner only.
 */
export function tlsCommand(secretsDir: string): string[] {
  return [
    'openssl',
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-days',
    '365',
    '-subj',
    '/CN=localhost',
    '-addext',
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    '-keyout',
    path.join(secretsDir, 'tls.key'),
    '-out',
    path.join(secretsDir, 'tls.crt'),
  ];
}

export interface DemoUser {
  readonly username: string;
  readonly password: string;
  readonly role: string;
}

/** The demo users and passwords in a gateway.env, for the URLs printed after a deploy. */
export function demoUsers(gatewayEnv: string | undefined): DemoUser[] {
  const line = gatewayEnv?.split('\n').find((l) => l.startsWith('GATEWAY_USERS='));
  if (!line) return [];
  try {
    return JSON.parse(line.slice('GATEWAY_USERS='.length)) as DemoUser[];
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------------------- plans

/** One thing a plan does. */
export type Step =
  /** Runs a program (argv[0] on PATH) from the repository root; a failure stops the plan unless `mayFail`. */
  | {
      readonly kind: 'run';
      readonly title: string;
      readonly argv: readonly string[];
      readonly mayFail?: true;
    }
  /** Writes the overlay's secret files (kindSecretFiles) into `dir`, readable by the owner only. */
  | {
      readonly kind: 'write-secrets';
      readonly title: string;
      readonly dir: string;
      readonly files: Readonly<Record<string, string>>;
    }
  /** Writes a file (the load run's kustomization). */
  | { readonly kind: 'write-file'; readonly title: string; readonly file: string; readonly content: string }
  /**
   * Waits until a Job completes or fails, then runs `afterwards` either way (its logs); the plan fails
   * when the Job did.
   */
  | {
      readonly kind: 'wait-job';
      readonly title: string;
      readonly job: string;
      readonly timeoutS: number;
      readonly afterwards: readonly Step[];
    }
  /** Text for the user. */
  | { readonly kind: 'print'; readonly text: string };

const kubectl = (...args: string[]): string[] => ['kubectl', '--context', CONTEXT, ...args];
const inNamespace = (...args: string[]): string[] => kubectl('--namespace', NAMESPACE, ...args);

export interface DeployOptions {
  /** Client-side discovery through Consul (overlays/kind-consul) instead of Kubernetes DNS. */
  readonly consul: boolean;
  /** Every image the manifests run (images.ts: deployedImages), loaded into the node. */
  readonly images: readonly string[];
  /** The demo users, for the printed URLs (demoUsers of secrets/gateway.env). */
  readonly users: readonly DemoUser[];
  /** Whether ingress-nginx runs (else the URLs say how to reach the gateway without it). */
  readonly ingress: boolean;
}

/** The workloads in the order their rollouts are awaited: what the services need first. */
export function workloads(consul: boolean): string[] {
  return [
    'statefulset/postgres',
    'statefulset/kafka',
    'deployment/redis',
    'deployment/zipkin',
    ...(consul ? ['deployment/consul'] : []),
    'deployment/inventory',
    'deployment/payment',
    'deployment/order',
    'deployment/gateway',
    'deployment/prometheus',
  ];
}

/** Loads the images, applies the overlay, waits for every rollout, prints where things are. */
export function deployPlan(options: DeployOptions): Step[] {
  return [
    {
      kind: 'run',
      title: `loading ${options.images.length} images into the kind node`,
      // Images are never pushed to a registry: the node gets them from the local Docker engine.
      argv: ['kind', 'load', 'docker-image', '--name', CLUSTER, ...options.images],
    },
    {
      kind: 'run',
      title: `applying ${options.consul ? KIND_CONSUL_OVERLAY : KIND_OVERLAY}`,
      argv: kubectl('apply', '--kustomize', options.consul ? KIND_CONSUL_OVERLAY : KIND_OVERLAY),
    },
    // `apply` does not delete: after a switch back to Kubernetes DNS, Consul and its policies would stay.
    ...(options.consul
      ? []
      : [
          {
            kind: 'run' as const,
            title: 'removing Consul if an earlier deploy used it',
            argv: inNamespace(
              'delete',
              'deployment,service,serviceaccount,networkpolicy',
              '--selector',
              'app.kubernetes.io/name=consul',
              '--ignore-not-found',
            ),
          },
        ]),
    ...workloads(options.consul).map((workload): Step => ({
      kind: 'run',
      title: `waiting for ${workload}`,
      argv: inNamespace('rollout', 'status', workload, '--timeout=10m'),
    })),
    { kind: 'print', text: urls(options) },
  ];
}

/** Where to reach the system once deployed. */
export function urls(options: Pick<DeployOptions, 'consul' | 'users' | 'ingress'>): string {
  const forward = (service: string, port: number): string =>
    `kubectl --context ${CONTEXT} -n ${NAMESPACE} port-forward svc/${service} ${port}`;
  const user = (name: string): string | undefined => options.users.find((u) => u.username === name)?.password;
  const lines: [string, string][] = [
    [
      'Public API',
      options.ingress
        ? `https://localhost/v1 (docs: https://localhost/docs); the certificate is self-signed: curl --cacert ${SECRETS_DIR}/tls.crt`
        : `no ingress controller yet: ${forward('gateway', 3000)}, then http://localhost:3000/v1`,
    ],
  ];
  if (user('alice'))
    lines.push([
      'Demo users',
      `alice / ${user('alice')} (customer), admin / ${user('admin') ?? '?'} (admin); all in ${SECRETS_DIR}/gateway.env`,
    ]);
  lines.push(
    ['Zipkin UI', `${forward('zipkin', 9411)}, then http://localhost:9411/zipkin/`],
    ['Prometheus API', `${forward('prometheus', 9090)}, then http://localhost:9090/api/v1/targets`],
  );
  if (options.consul) lines.push(['Consul UI', `${forward('consul', 8500)}, then http://localhost:8500/ui/`]);
  lines.push(
    ['Status', 'npm run kind -- status'],
    ['Load', `npm run kind -- load <${Object.keys(LOAD_SCENARIOS).join('|')}> [--rate N] [--duration S]`],
  );
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n');
}

/** What `up` finds on the machine before it plans. */
export interface UpFacts {
  readonly clusterExists: boolean;
  /** Whether ingress-nginx is installed in the cluster (false when the cluster is created by this run). */
  readonly ingressInstalled: boolean;
  /** Whether secrets/ holds the overlay's env files (all of them: kind-cli refuses a partial set). */
  readonly secretsPresent: boolean;
  readonly tlsPresent: boolean;
  /** A local copy of ingress-nginx's kind manifest to apply, when the controller is missing. */
  readonly ingressManifest?: string;
}

/**
 * Creates what is missing (cluster, secrets, certificate, ingress controller), builds the images, deploys.
 * `fresh`: the secret files to write when there are none yet (random unless a test gives its own).
 */
export function upPlan(
  facts: UpFacts,
  options: Omit<DeployOptions, 'ingress'>,
  fresh: Readonly<Record<string, string>> = kindSecretFiles(),
): Step[] {
  const steps: Step[] = [];
  if (!facts.clusterExists)
    steps.push({
      kind: 'run',
      title: `creating the kind cluster ${CLUSTER}`,
      argv: ['kind', 'create', 'cluster', '--name', CLUSTER, '--config', KIND_CONFIG, '--wait', '2m'],
    });
  let users = options.users;
  if (!facts.secretsPresent) {
    steps.push({
      kind: 'write-secrets',
      title: `generating passwords and keys into ${SECRETS_DIR} (never committed)`,
      dir: SECRETS_DIR,
      files: fresh,
    });
    users = demoUsers(fresh['gateway.env']);
  }
  if (!facts.tlsPresent)
    steps.push({
      kind: 'run',
      title: 'generating a self-signed TLS certificate for localhost',
      argv: tlsCommand(SECRETS_DIR),
    });
  let ingress = facts.ingressInstalled;
  if (!ingress && facts.ingressManifest) {
    // Before the Ingress object is applied: the controller's admission webhook must answer by then.
    steps.push(
      {
        kind: 'run',
        title: 'installing ingress-nginx',
        argv: kubectl('apply', '--filename', facts.ingressManifest),
      },
      {
        kind: 'run',
        title: 'waiting for the ingress-nginx controller',
        argv: kubectl(
          'wait',
          '--namespace',
          'ingress-nginx',
          '--for=condition=ready',
          'pod',
          '--selector=app.kubernetes.io/component=controller',
          '--timeout=5m',
        ),
      },
    );
    ingress = true;
  } else if (!ingress) {
    steps.push({
      kind: 'print',
      text:
        'ingress-nginx is not installed, and it is not downloaded here. Install it once with\n' +
        `  kubectl --context ${CONTEXT} apply -f ${INGRESS_NGINX_MANIFEST}\n` +
        'or pass a downloaded copy: npm run kind -- up --ingress-manifest <file>. Until then the gateway is reached by port-forward.',
    });
  }
  steps.push({
    kind: 'run',
    title: 'building the images (npm run images)',
    argv: ['npm', 'run', 'images', '--', 'build'],
  });
  steps.push(...deployPlan({ ...options, users, ingress }));
  return steps;
}

export function statusPlan(): Step[] {
  return [
    {
      kind: 'run',
      title: 'pods, services and ingress',
      argv: inNamespace('get', 'pods,services,ingress', '--output', 'wide'),
    },
    {
      kind: 'run',
      title: 'autoscalers and disruption budgets',
      argv: inNamespace('get', 'horizontalpodautoscalers,poddisruptionbudgets'),
    },
  ];
}

export function downPlan(): Step[] {
  return [
    {
      kind: 'run',
      title: `deleting the kind cluster ${CLUSTER} (the secrets in ${SECRETS_DIR} are kept)`,
      argv: ['kind', 'delete', 'cluster', '--name', CLUSTER],
    },
  ];
}

// ----------------------------------------------------------------------------------------------- load

/**
 * The load Job's scenarios (k8s/load/prepare.mjs builds their requests) with their default rate and
 * duration. One user's token bucket refills at 50 requests/s (GATEWAY_RATE_LIMIT_USER), so the defaults
 * stay under it; a higher --rate measures the limiter (429s in the report).
 */
export const LOAD_SCENARIOS = {
  read: { rate: 40, durationS: 60, what: 'the cached product read (GET /v1/products/:id)' },
  list: {
    rate: 20,
    durationS: 60,
    what: 'a catalog page (GET /v1/products), served by the inventory service',
  },
  orders: { rate: 10, durationS: 60, what: 'placing orders (POST /v1/orders), one saga each' },
} as const;
export type LoadScenario = keyof typeof LOAD_SCENARIOS;

/** An access token lives 5 minutes (GATEWAY_ACCESS_TOKEN_TTL_S) and the Job logs in once: runs stay shorter. */
export const MAX_LOAD_DURATION_S = 240;

export interface LoadOptions {
  readonly scenario: LoadScenario;
  readonly rate: number;
  readonly durationS: number;
}

/** Reads `<scenario> [--rate N] [--duration S]`; throws a DeployError naming what is wrong. */
export function parseLoadArgs(args: readonly string[]): LoadOptions {
  const usage = `npm run kind -- load <${Object.keys(LOAD_SCENARIOS).join('|')}> [--rate N] [--duration S]`;
  const [scenario, ...rest] = args;
  if (!scenario || !(scenario in LOAD_SCENARIOS))
    throw new DeployError(
      scenario ? `There is no load scenario ${scenario}.` : 'load needs a scenario.',
      `Run ${usage}; ${Object.entries(LOAD_SCENARIOS)
        .map(([name, s]) => `${name}: ${s.what}`)
        .join('; ')}.`,
    );
  const defaults = LOAD_SCENARIOS[scenario as LoadScenario];
  let rate: number = defaults.rate;
  let durationS: number = defaults.durationS;
  for (let i = 0; i < rest.length; i++) {
    const flag = rest[i];
    const value = Number(rest[i + 1]);
    if (flag === '--rate' || flag === '--duration') {
      if (!Number.isInteger(value) || value <= 0)
        throw new DeployError(`${flag} needs a positive whole number.`, `Run ${usage}.`);
      if (flag === '--rate') rate = value;
      else durationS = value;
      i++;
    } else throw new DeployError(`Unknown option ${String(flag)} for load.`, `Run ${usage}.`);
  }
  if (durationS > MAX_LOAD_DURATION_S)
    throw new DeployError(
      `--duration ${durationS} is longer than ${MAX_LOAD_DURATION_S} s, and the load user's token expires after 300 s.`,
      `Run shorter attacks (several in a row if need be).`,
    );
  return { scenario: scenario as LoadScenario, rate, durationS };
}

/**
 * The kustomization of one load run, written to a directory of its own: k8s/load with this run's settings
 * merged into its `load-run` ConfigMap. `loadDir` is k8s/load relative to that directory (kustomize takes
 * no absolute path).
 */
export function loadKustomization(loadDir: string, options: LoadOptions): string {
  return [
    '# Written by `npm run kind -- load`: the load Job of k8s/load with this run’s settings.',
    'apiVersion: kustomize.config.k8s.io/v1beta1',
    'kind: Kustomization',
    `namespace: ${NAMESPACE}`,
    'resources:',
    `  - ${loadDir}`,
    'configMapGenerator:',
    '  - name: load-run',
    '    behavior: merge',
    '    literals:',
    `      - SCENARIO=${options.scenario}`,
    `      - RATE=${options.rate}`,
    `      - DURATION_S=${options.durationS}`,
    '',
  ].join('\n');
}

/** Replaces the previous run's Job, applies this one, waits for it and prints each step's output. */
export function loadPlan(options: LoadOptions, runDir: string, repoRoot: string): Step[] {
  const logs = (container: string): Step => ({
    kind: 'run',
    title: `output of ${container}`,
    argv: inNamespace('logs', 'job/load', '--container', container),
    mayFail: true,
  });
  return [
    {
      kind: 'write-file',
      title: `${options.scenario}: ${options.rate} requests/s for ${options.durationS} s`,
      file: path.join(runDir, 'kustomization.yaml'),
      content: loadKustomization(path.relative(runDir, path.join(repoRoot, LOAD_KUSTOMIZATION)), options),
    },
    // A Job's pod template cannot change: each run is a new Job.
    {
      kind: 'run',
      title: 'removing the previous load Job',
      argv: inNamespace('delete', 'job', 'load', '--ignore-not-found', '--wait=true'),
    },
    { kind: 'run', title: 'starting the load Job', argv: kubectl('apply', '--kustomize', runDir) },
    {
      kind: 'wait-job',
      title: 'waiting for the load Job',
      job: 'load',
      // Login and targets (up to 2 minutes while the gateway starts), the attack, the report.
      timeoutS: options.durationS + 300,
      afterwards: [logs('prepare'), logs('attack'), logs('report')],
    },
  ];
}

/** The kubectl call that reads a Job's state for `wait-job`: its condition types, e.g. `Complete`. */
export const jobConditionsCommand = (job: string): string[] =>
  inNamespace('get', 'job', job, '--output', 'jsonpath={.status.conditions[*].type}');
