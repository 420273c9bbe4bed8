import { StackError, badEnv } from './errors';

/**
 * Infrastructure, in start order (Prometheus after Consul, where it finds what to scrape). `schemathesis`
 * (the contract tests' fuzzer), `vegeta` (the load generator for load-tests/, MIT) and the deploy
 * validation's `kustomize`, `kubeconform`, `compose` and `k8s-schemas` are tools: provisioned, never
 * started. k6 is not provisioned: it is AGPL-licensed (docs/licences.md).
 */
/** What the deploy validation (`npm run k8s:validate`, infra/deploy) needs and nothing else does. */
export const DEPLOY_TOOLS = ['kustomize', 'kubeconform', 'compose', 'k8s-schemas'] as const;

export const INFRA = [
  'postgres',
  'redis',
  'consul',
  'toxiproxy',
  'kafka',
  'zipkin',
  'prometheus',
  'schemathesis',
  'vegeta',
  ...DEPLOY_TOOLS,
] as const;
/** Saga Lab's own services, started once the infrastructure is healthy. */
export const SERVICES = ['inventory', 'payment', 'order', 'gateway'] as const;
export const COMPONENTS = [...INFRA, ...SERVICES] as const;
/**
 * What `npm start` and a bare `stack up` bring: everything but the deploy tools, which only the deploy
 * validation and the compose test need (Compose alone is a build of minutes) — `npm test` provisions them,
 * `stack up kustomize kubeconform compose k8s-schemas` does on demand.
 */
export const RUNTIME_COMPONENTS = COMPONENTS.filter((c) => !(DEPLOY_TOOLS as readonly string[]).includes(c));
export type ComponentName = (typeof COMPONENTS)[number];
export type ServiceName = (typeof SERVICES)[number];

export const LOOPBACK = '127.0.0.1';

/** Per-service databases (one database and one role each). */
export const SERVICE_DATABASES = [
  { service: 'order', database: 'orders', envVar: 'ORDER_DATABASE_URL' },
  { service: 'inventory', database: 'inventory', envVar: 'INVENTORY_DATABASE_URL' },
  { service: 'payment', database: 'payments', envVar: 'PAYMENT_DATABASE_URL' },
] as const;

interface ComponentSpec {
  /** The environment variable that points at an existing instance instead of provisioning one. */
  readonly envVar: string;
  /** Every port a managed instance listens on; the first is its client address. */
  readonly ports: readonly number[];
  /**
   * Ports a managed instance advertises but does not listen on: a Toxiproxy proxy the failure lab creates
   * listens there and forwards to one of `ports` (see components/kafka.ts). Not checked for being free.
   */
  readonly proxyPorts?: readonly number[];
}

export const COMPONENT_SPECS: Record<ComponentName, ComponentSpec> = {
  postgres: { envVar: 'DATABASE_URL', ports: [5432] },
  redis: { envVar: 'REDIS_URL', ports: [6379] },
  consul: { envVar: 'CONSUL_HTTP_ADDR', ports: [8500, 8300, 8301, 8302, 8502, 8503, 8600] },
  toxiproxy: { envVar: 'TOXIPROXY_URL', ports: [8474] },
  // 9092 clients, 9093 the KRaft controller, 9094 the PROXIED listener (advertised at proxy port 9095).
  kafka: { envVar: 'KAFKA_BROKERS', ports: [9092, 9093, 9094], proxyPorts: [9095] },
  zipkin: { envVar: 'ZIPKIN_URL', ports: [9411] },
  prometheus: { envVar: 'PROMETHEUS_URL', ports: [9090] },
  schemathesis: { envVar: 'SCHEMATHESIS_BIN', ports: [] },
  vegeta: { envVar: 'VEGETA_BIN', ports: [] },
  kustomize: { envVar: 'KUSTOMIZE_BIN', ports: [] },
  kubeconform: { envVar: 'KUBECONFORM_BIN', ports: [] },
  compose: { envVar: 'DOCKER_COMPOSE_BIN', ports: [] },
  'k8s-schemas': { envVar: 'K8S_SCHEMAS_DIR', ports: [] },
  inventory: { envVar: 'INVENTORY_URL', ports: [3002] },
  payment: { envVar: 'PAYMENT_URL', ports: [3003] },
  order: { envVar: 'ORDER_URL', ports: [3001] },
  gateway: { envVar: 'GATEWAY_URL', ports: [3000] },
};

/**
 * `npm test` runs its own stack (SAGA_LAB_PROFILE=test): its own state directory and every port moved up
 * by this offset, so the tests never write into the databases, topics or Redis that `npm start` serves,
 * and both can run at once.
 */
export const TEST_PORT_OFFSET = 10_000;
export const isTestProfile = (env: NodeJS.ProcessEnv): boolean => env['SAGA_LAB_PROFILE'] === 'test';

/**
 * The variable that points the profile at an existing instance. The test profile reads only
 * `SAGA_LAB_TEST_<VAR>`: a shell that exported the user's stack (`eval "$(npm run -s stack -- env)"`)
 * must not send the tests into it.
 */
export const overrideVar = (envVar: string, env: NodeJS.ProcessEnv): string =>
  isTestProfile(env) ? `SAGA_LAB_TEST_${envVar}` : envVar;

export interface ComponentConfig {
  readonly name: ComponentName;
  /** false when the environment points at an instance we must not provision or stop. */
  readonly managed: boolean;
  readonly envVar: string;
  /** What clients use: a URL, a host:port list, or (for a tool) a binary path; '' if not known yet. */
  readonly address: string;
  readonly ports: readonly number[];
  /** See ComponentSpec.proxyPorts (profile offset applied; none for an external instance). */
  readonly proxyPorts: readonly number[];
}

export type StackConfig = Record<ComponentName, ComponentConfig>;

/**
 * Resolves which components to provision and where clients find them. An endpoint given in the
 * environment wins, and the component is then left alone (not provisioned, not stopped) — unless the
 * value is the stack's own address for that component: its default address in this profile, or what the
 * stack recorded for it in `<state>/stack.env` (`recorded`, see `readRecordedEnv`). That is what a shell
 * holds after `eval "$(npm run -s stack -- env)"`, and the instance behind it is still the stack's to
 * restart and stop.
 */
export function resolveStackConfig(
  env: NodeJS.ProcessEnv = process.env,
  recorded: Readonly<Record<string, string>> = {},
): StackConfig {
  const offset = isTestProfile(env) ? TEST_PORT_OFFSET : 0;
  const entries = COMPONENTS.map((name): [ComponentName, ComponentConfig] => {
    const spec = COMPONENT_SPECS[name];
    const envVar = overrideVar(spec.envVar, env);
    const given = env[envVar]?.trim();
    const ports = spec.ports.map((port) => port + offset);
    const proxyPorts = (spec.proxyPorts ?? []).map((port) => port + offset);
    const own = defaultAddress(name, ports[0]);
    const address = given ? validate(name, envVar, given) : own;
    // Components export under the plain variable name in every profile (KAFKA_BROKERS, not SAGA_LAB_TEST_…).
    const managed = !given || isOwnAddress(name, address, [own, recorded[spec.envVar]]);
    return [
      name,
      { name, managed, envVar, address, ports: managed ? ports : [], proxyPorts: managed ? proxyPorts : [] },
    ];
  });
  return Object.fromEntries(entries) as StackConfig;
}

/** Whether a given (validated) address is one of the stack's own; consul's may carry an http:// scheme. */
function isOwnAddress(name: ComponentName, address: string, own: readonly (string | undefined)[]): boolean {
  const bare = (value: string): string => (name === 'consul' ? value.replace(/^https?:\/\//, '') : value);
  return own.some(
    (candidate) => candidate !== undefined && candidate !== '' && bare(candidate) === bare(address),
  );
}

/** Parses `<state>/stack.env` (KEY=value lines, as `up` writes them). */
export function parseRecordedEnv(text: string): Record<string, string> {
  const recorded: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) recorded[match[1]] = match[2] ?? '';
  }
  return recorded;
}

function defaultAddress(name: ComponentName, port: number | undefined): string {
  switch (name) {
    case 'postgres':
      return ''; // known once the admin password exists (see components/postgres.ts)
    case 'redis':
      return `redis://${LOOPBACK}:${port}`;
    case 'consul':
      return `${LOOPBACK}:${port}`;
    case 'kafka':
      return `${LOOPBACK}:${port}`;
    case 'toxiproxy':
    case 'zipkin':
    case 'prometheus':
    case 'inventory':
    case 'payment':
    case 'order':
    case 'gateway':
      return `http://${LOOPBACK}:${port}`;
    case 'schemathesis':
    case 'vegeta':
    case 'kustomize':
    case 'kubeconform':
    case 'compose':
    case 'k8s-schemas':
      return ''; // a tool: its binary path is known to its component (the cache), not to the config
  }
}

const hostPort = /^[A-Za-z0-9.-]+:\d{1,5}$/;

function validate(name: ComponentName, envVar: string, value: string): string {
  const url = (protocols: string[]): string => {
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      throw badEnv(envVar, value, `a URL (e.g. ${protocols[0]}//127.0.0.1)`);
    }
    if (!protocols.includes(parsed.protocol)) throw badEnv(envVar, value, `a ${protocols.join(' or ')} URL`);
    return value.replace(/\/+$/, '');
  };
  switch (name) {
    case 'postgres':
      return url(['postgres:', 'postgresql:']);
    case 'redis':
      return url(['redis:', 'rediss:']);
    case 'toxiproxy':
    case 'zipkin':
    case 'prometheus':
    case 'inventory':
    case 'payment':
    case 'order':
    case 'gateway':
      return url(['http:', 'https:']);
    case 'consul': {
      const bare = value.replace(/^https?:\/\//, '').replace(/\/+$/, '');
      if (!hostPort.test(bare)) throw badEnv(envVar, value, 'host:port (e.g. 127.0.0.1:8500)');
      return value;
    }
    case 'kafka': {
      const brokers = value.split(',').map((b) => b.trim());
      if (brokers.length === 0 || !brokers.every((b) => hostPort.test(b))) {
        throw badEnv(envVar, value, 'a comma-separated host:port list (e.g. 127.0.0.1:9092)');
      }
      return brokers.join(',');
    }
    case 'schemathesis':
    case 'vegeta':
    case 'kustomize':
    case 'kubeconform':
    case 'compose':
      if (!value.startsWith('/')) throw badEnv(envVar, value, `an absolute path to a ${name} binary`);
      return value;
    case 'k8s-schemas':
      if (!value.startsWith('/')) {
        throw badEnv(
          envVar,
          value,
          'an absolute path to a directory of JSON schemas in kubeconform’s layout',
        );
      }
      return value.replace(/\/+$/, '');
  }
}

/** Parses `--only a,b` style component selections; unknown names are an error that lists the valid ones. */
export function selectComponents(names: readonly string[]): ComponentName[] {
  if (names.length === 0) return [...RUNTIME_COMPONENTS];
  const unknown = names.filter((n) => !(COMPONENTS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    throw new StackError(
      `Unknown component: ${unknown.join(', ')}.`,
      `Use one of: ${COMPONENTS.join(', ')}.`,
    );
  }
  return COMPONENTS.filter((c) => names.includes(c));
}
