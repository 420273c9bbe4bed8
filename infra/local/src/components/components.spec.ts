import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { portFlags } from './consul';
import { kafkaComponent, newClusterId, renderTemplate, withProxiedListener } from './kafka';
import { assertBsdRedis } from './redis';
import { findPostgresBin, serviceUrl } from './postgres';
import {
  alertRulesFile,
  findPromtool,
  prometheusBinaries,
  prometheusComponent,
  prometheusConfig,
  prometheusModuleVersion,
  renderPrometheusConfig,
} from './prometheus';
import { isInstalled, schemathesisInstall } from './schemathesis';
import { goCommandName, parsePythonProbe, systemUser } from './toolchain';
import { vegetaBuild, vegetaComponent } from './vegeta';
import { composeBuild } from './compose';
import { k8sSchemasComponent, schemaLayout } from './k8s-schemas';
import { kubeconformBuild } from './kubeconform';
import { kustomizeBuild } from './kustomize';
import { createComponent } from './index';
import { DEPLOY_TOOLS, INFRA } from '../config';
import { silentReporter } from '../progress';
import { createContext } from '../stack';

describe('kafka', () => {
  it('renders every placeholder of the broker template', () => {
    const template = readFileSync(
      path.resolve(__dirname, '../../jvm/kafka-server.properties.template'),
      'utf8',
    );
    const rendered = renderTemplate(template, {
      DATA_DIR: '/data',
      BROKER_PORT: '9092',
      CONTROLLER_PORT: '9093',
    });
    expect(rendered).not.toMatch(/\$\{[A-Z_]+\}/);
    expect(rendered).toMatch(/^log\.dirs=\/data$/m);
    expect(rendered).toMatch(/^auto\.create\.topics\.enable=false$/m);
    expect(rendered).toMatch(/^listeners=PLAINTEXT:\/\/127\.0\.0\.1:9092,CONTROLLER:\/\/127\.0\.0\.1:9093$/m);
  });

  it('adds the PROXIED listener, bound at its own port and advertised at the proxy’s, leaving the others as they are', () => {
    const template = readFileSync(
      path.resolve(__dirname, '../../jvm/kafka-server.properties.template'),
      'utf8',
    );
    const rendered = renderTemplate(template, {
      DATA_DIR: '/data',
      BROKER_PORT: '19092',
      CONTROLLER_PORT: '19093',
    });
    const proxied = withProxiedListener(rendered, 19094, 19095);
    expect(proxied).toMatch(
      /^listeners=PLAINTEXT:\/\/127\.0\.0\.1:19092,CONTROLLER:\/\/127\.0\.0\.1:19093,PROXIED:\/\/127\.0\.0\.1:19094$/m,
    );
    expect(proxied).toMatch(
      /^advertised\.listeners=PLAINTEXT:\/\/127\.0\.0\.1:19092,CONTROLLER:\/\/127\.0\.0\.1:19093,PROXIED:\/\/127\.0\.0\.1:19095$/m,
    );
    expect(proxied).toMatch(
      /^listener\.security\.protocol\.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:PLAINTEXT$/m,
    );
    // Clients and brokers still meet on PLAINTEXT; the controller stays the controller.
    expect(proxied).toMatch(/^inter\.broker\.listener\.name=PLAINTEXT$/m);
    expect(proxied).toMatch(/^controller\.listener\.names=CONTROLLER$/m);
    expect(proxied.split('\n').length).toBe(rendered.split('\n').length);
    expect(() => withProxiedListener('log.dirs=/data\n', 1, 2)).toThrow(/no listeners= line/);
  });

  it('exports where clients reach it, through the proxy too, for the stack’s own broker only', () => {
    const env = {
      SAGA_LAB_PROFILE: 'test',
      SAGA_LAB_STATE_DIR: mkdtempSync(path.join(os.tmpdir(), 'kafka-')),
    };
    expect(kafkaComponent(createContext(env, silentReporter())).exports()).toEqual({
      KAFKA_BROKERS: '127.0.0.1:19092',
      KAFKA_PROXIED_BROKERS: '127.0.0.1:19095',
      KAFKA_PROXIED_UPSTREAM: '127.0.0.1:19094',
    });
    const external = createContext({ ...env, SAGA_LAB_TEST_KAFKA_BROKERS: 'broker:9092' }, silentReporter());
    expect(kafkaComponent(external).exports()).toEqual({ KAFKA_BROKERS: 'broker:9092' });
  });

  it('leaves unknown placeholders visible rather than blank', () => {
    expect(renderTemplate('a=${A} b=${B}', { A: '1' })).toBe('a=1 b=${B}');
  });

  it('makes cluster ids in Kafka’s 22-character base64url form', () => {
    expect(newClusterId()).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(newClusterId()).not.toBe(newClusterId());
  });
});

describe('postgres', () => {
  it('picks the newest installed major that is recent enough', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'pg-'));
    for (const major of ['13', '15', '16']) {
      mkdirSync(path.join(root, major, 'bin'), { recursive: true });
      writeFileSync(path.join(root, major, 'bin', 'postgres'), '');
    }
    mkdirSync(path.join(root, '17')); // no server binaries: a client-only install
    expect(findPostgresBin(root, 15)).toEqual({ major: 16, bin: path.join(root, '16', 'bin') });
    expect(findPostgresBin(root, 17)).toBeUndefined();
    expect(findPostgresBin(path.join(root, 'missing'))).toBeUndefined();
  });

  it('builds per-service URLs on the admin server, escaping credentials', () => {
    expect(
      serviceUrl('postgres://postgres:pw@db:6543/postgres?sslmode=disable', 'orders', 'a/b@c', 'orders'),
    ).toBe('postgres://orders:a%2Fb%40c@db:6543/orders?sslmode=disable');
  });

  it('finds the postgres system user in a passwd file', () => {
    const passwd =
      'root:x:0:0:root:/root:/bin/bash\npostgres:x:101:104:PostgreSQL administrator:/var/lib/postgresql:/bin/bash\n';
    expect(systemUser('postgres', passwd)).toEqual({ uid: 101, gid: 104 });
    expect(systemUser('redis', passwd)).toBeUndefined();
  });
});

describe('python tools', () => {
  it('reads the interpreter probe: version and whether venv is there', () => {
    expect(parsePythonProbe('3.11 venv-ok\n')).toEqual({ major: 3, minor: 11, venv: true });
    expect(parsePythonProbe('3.12 no-venv\n')).toEqual({ major: 3, minor: 12, venv: false });
    expect(parsePythonProbe('Python was not found')).toBeUndefined();
  });

  it('counts a schemathesis venv as installed only when whole, of this version, with its Python still there', () => {
    const cache = mkdtempSync(path.join(os.tmpdir(), 'st-'));
    const install = schemathesisInstall(cache, '4.1.0');
    expect(install.binary).toBe(path.join(cache, 'schemathesis', '4.1.0', 'venv', 'bin', 'schemathesis'));
    mkdirSync(path.dirname(install.binary), { recursive: true });
    writeFileSync(install.binary, '#!/bin/sh\n');
    chmodSync(install.binary, 0o755);
    const python = path.join(cache, 'python3');
    writeFileSync(python, '');
    symlinkSync(python, path.join(install.venv, 'bin', 'python'));
    expect(isInstalled(install, '4.1.0')).toBe(false); // no marker: pip may have been interrupted
    writeFileSync(install.marker, '4.1.0\n');
    expect(isInstalled(install, '4.1.0')).toBe(true);
    expect(isInstalled(install, '4.2.0')).toBe(false);
    rmSync(python); // the interpreter the venv was made from is gone
    expect(isInstalled(install, '4.1.0')).toBe(false);
  });
});

describe('redis', () => {
  it('accepts BSD-licensed releases and refuses the ones after 7.2 by name', () => {
    const v = (version: string): string =>
      `Redis server v=${version} sha=00000000:0 malloc=jemalloc-5.3.0 bits=64`;
    expect(() => assertBsdRedis(v('7.0.15'), '7.2')).not.toThrow();
    expect(() => assertBsdRedis(v('7.2.4'), '7.2')).not.toThrow();
    expect(() => assertBsdRedis(v('7.4.1'), '7.2')).toThrow(
      /redis-server 7\.4\.1 is not under an open-source licence/,
    );
    expect(() => assertBsdRedis(v('8.0.2'), '7.2')).toThrow(/RSALv2\/SSPLv1/);
    expect(() => assertBsdRedis('garbage', '7.2')).toThrow(/Could not read the version/);
  });
});

describe('consul', () => {
  it('passes every port of the profile, so two agents can run side by side', () => {
    expect(portFlags({ http: '18500', dns: '18600' })).toEqual(['-http-port', '18500', '-dns-port', '18600']);
    expect(portFlags({})).toEqual([]);
  });
});

describe('prometheus', () => {
  const rulesFile = '/repo/infra/prometheus/alerts.yml';

  it('discovers the four services through the stack’s Consul and labels each series with its service', () => {
    const config = prometheusConfig({ consulAddress: '127.0.0.1:18500', rulesFile }) as {
      global: Record<string, string>;
      rule_files: string[];
      scrape_configs: Record<string, unknown>[];
    };
    expect(config.global['scrape_interval']).toBe('5s');
    expect(config.rule_files).toEqual([rulesFile]);
    expect(config.scrape_configs).toHaveLength(1);
    expect(config.scrape_configs[0]).toMatchObject({
      job_name: 'saga-lab',
      metrics_path: '/metrics',
      consul_sd_configs: [
        { server: '127.0.0.1:18500', scheme: 'http', services: ['inventory', 'payment', 'order', 'gateway'] },
      ],
      relabel_configs: [
        { source_labels: ['__meta_consul_service'], target_label: 'service' },
        { source_labels: ['__address__'], target_label: 'instance' },
      ],
    });
  });

  it('takes scheme and host from a CONSUL_HTTP_ADDR given as a URL', () => {
    const config = prometheusConfig({ consulAddress: 'https://consul.internal:8501/', rulesFile }) as {
      scrape_configs: { consul_sd_configs: Record<string, unknown>[] }[];
    };
    expect(config.scrape_configs[0]?.consul_sd_configs[0]).toMatchObject({
      server: 'consul.internal:8501',
      scheme: 'https',
    });
  });

  it('renders JSON, which Prometheus reads as YAML', () => {
    const input = { consulAddress: '127.0.0.1:8500', rulesFile };
    expect(JSON.parse(renderPrometheusConfig(input))).toEqual(prometheusConfig(input));
  });

  it('writes its config into the profile’s state directory and listens on the profile’s port', async () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'prom-'));
    const ctx = createContext(
      { PATH: process.env['PATH'], SAGA_LAB_PROFILE: 'test', SAGA_LAB_STATE_DIR: stateDir },
      silentReporter(),
    );
    const prometheus = prometheusComponent(ctx);
    await prometheus.prepare?.();
    const dir = path.join(stateDir, 'test', 'prometheus');
    const written = JSON.parse(readFileSync(path.join(dir, 'prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { consul_sd_configs: { server: string }[] }[];
    };
    expect(written.rule_files).toEqual([alertRulesFile(ctx.paths.repoRoot)]);
    expect(path.isAbsolute(written.rule_files[0] ?? '')).toBe(true);
    expect(written.scrape_configs[0]?.consul_sd_configs[0]?.server).toBe('127.0.0.1:18500');
    expect(prometheus.launch?.().command).toBe(prometheusBinaries(ctx).prometheus);
    expect(prometheus.launch?.().args).toEqual(
      expect.arrayContaining([
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        '--web.listen-address=127.0.0.1:19090',
      ]),
    );
    expect(prometheus.exports()).toEqual({ PROMETHEUS_URL: 'http://127.0.0.1:19090' });
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('builds the module tag Prometheus publishes each release under', () => {
    expect(prometheusModuleVersion('3.16.0')).toBe('v0.316.0');
    expect(prometheusModuleVersion('3.5.1')).toBe('v0.305.1');
    expect(prometheusModuleVersion('2.54.1')).toBe('v0.54.1');
  });

  it('finds promtool beside the stack’s prometheus build first, then on PATH', () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'promtool-'));
    const onPath = path.join(root, 'bin');
    mkdirSync(onPath);
    writeFileSync(path.join(onPath, 'promtool'), '#!/bin/sh\n', { mode: 0o755 });
    const ctx = createContext(
      { PATH: onPath, SAGA_LAB_CACHE_DIR: path.join(root, 'cache'), SAGA_LAB_STATE_DIR: root },
      silentReporter(),
    );
    expect(findPromtool(ctx)).toBe(path.join(onPath, 'promtool'));
    const { prometheus, promtool } = prometheusBinaries(ctx);
    expect(path.dirname(promtool)).toBe(path.dirname(prometheus));
    mkdirSync(path.dirname(promtool), { recursive: true });
    writeFileSync(promtool, '#!/bin/sh\n', { mode: 0o755 });
    expect(findPromtool(ctx)).toBe(promtool);
    expect(findPromtool({ ...ctx, env: { PATH: path.join(root, 'none') } })).toBe(promtool);
    rmSync(root, { recursive: true, force: true });
  });
});

describe('go binaries', () => {
  it('names a binary as `go install` does: the element before a major-version suffix', () => {
    expect(goCommandName('github.com/tsenart/vegeta/v12')).toBe('vegeta');
    expect(goCommandName('example.com/tool/v2')).toBe('tool');
    expect(goCommandName('github.com/Shopify/toxiproxy/v2/cmd/server')).toBe('server');
    expect(goCommandName('github.com/prometheus/prometheus/cmd/promtool')).toBe('promtool');
    // Not major-version suffixes: v1 and v0x are ordinary names.
    expect(goCommandName('example.com/tool/v1')).toBe('v1');
    expect(goCommandName('example.com/tool/v02')).toBe('v02');
    expect(goCommandName('v2')).toBe('v2');
  });
});

describe('vegeta', () => {
  let root: string;
  const context = (extra: NodeJS.ProcessEnv = {}): ReturnType<typeof createContext> =>
    createContext(
      {
        PATH: path.join(root, 'no-go'), // no go on PATH: whatever needs it fails
        SAGA_LAB_CACHE_DIR: path.join(root, 'cache'),
        SAGA_LAB_STATE_DIR: path.join(root, 'state'),
        ...extra,
      },
      silentReporter(),
    );
  const executable = (file: string): string => {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '#!/bin/sh\n', { mode: 0o755 });
    return file;
  };

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'vegeta-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is a tool that `up` provisions with the infrastructure, at the version versions.json pins', () => {
    const ctx = context();
    expect(INFRA).toContain('vegeta');
    const vegeta = createComponent(ctx, 'vegeta');
    expect(vegeta).toMatchObject({ name: 'vegeta', kind: 'tool', version: ctx.versions.vegeta });
    expect(vegeta.launch).toBeUndefined();
    expect(ctx.config.vegeta).toMatchObject({ managed: true, envVar: 'VEGETA_BIN', ports: [] });
  });

  it('builds the module root into the cache with its version stamped, and exports that binary', () => {
    const ctx = context();
    const version = ctx.versions.vegeta;
    const build = vegetaBuild(ctx);
    expect(build).toMatchObject({
      name: 'vegeta',
      version,
      package: 'github.com/tsenart/vegeta/v12',
      binary: path.join(root, 'cache', 'vegeta', version, 'bin', 'vegeta'),
      ldflags: `-X main.Version=v${version}`,
    });
    expect(build.moduleDir).toBeUndefined(); // `go install <module>@v<version>`
    expect(vegetaComponent(ctx).exports()).toEqual({ VEGETA_BIN: build.binary });
  });

  it('needs go only while its binary is missing, and counts as installed once it is there', async () => {
    const ctx = context();
    const vegeta = vegetaComponent(ctx);
    await expect(vegeta.preflight()).rejects.toThrow(
      /`go` was not found on PATH; it is needed to build vegeta \d+\.\d+\.\d+ from the Go module proxy/,
    );
    expect(await vegeta.healthy()).toBe(false);
    executable(vegetaBuild(ctx).binary);
    await expect(vegeta.preflight()).resolves.toBeUndefined();
    await expect(vegeta.provision()).resolves.toBeUndefined(); // built already: go is not asked for
    expect(await vegeta.healthy()).toBe(true);
  });

  it('uses a VEGETA_BIN of the user’s own as it is: external, nothing built, no go needed', async () => {
    const own = executable(path.join(root, 'bin', 'vegeta'));
    const ctx = context({ VEGETA_BIN: own });
    const vegeta = vegetaComponent(ctx);
    expect(ctx.config.vegeta.managed).toBe(false);
    expect(vegeta.version).toBe('external');
    expect(vegeta.exports()).toEqual({ VEGETA_BIN: own });
    await expect(vegeta.preflight()).resolves.toBeUndefined();
    await expect(vegeta.provision()).resolves.toBeUndefined();
    expect(existsSync(vegetaBuild(ctx).binary)).toBe(false);
    expect(await vegeta.healthy()).toBe(true);
    rmSync(own);
    expect(await vegeta.healthy()).toBe(false);
  });

  it('in the test profile, reads only SAGA_LAB_TEST_VEGETA_BIN', () => {
    const own = executable(path.join(root, 'bin', 'vegeta'));
    const user = context({ SAGA_LAB_PROFILE: 'test', VEGETA_BIN: own });
    expect(vegetaComponent(user).exports()).toEqual({ VEGETA_BIN: vegetaBuild(user).binary });
    const test = context({ SAGA_LAB_PROFILE: 'test', SAGA_LAB_TEST_VEGETA_BIN: own });
    expect(vegetaComponent(test).version).toBe('external');
    expect(vegetaComponent(test).exports()).toEqual({ VEGETA_BIN: own });
  });

  it('keeps its own binary managed when an exported `stack env` names it', () => {
    const binary = vegetaBuild(context()).binary;
    mkdirSync(path.join(root, 'state'), { recursive: true });
    writeFileSync(path.join(root, 'state', 'stack.env'), `VEGETA_BIN=${binary}\n`);
    const ctx = context({ VEGETA_BIN: binary });
    expect(ctx.config.vegeta.managed).toBe(true);
    expect(vegetaComponent(ctx).version).toBe(ctx.versions.vegeta);
  });
});

describe('the deploy validation’s tools', () => {
  let root: string;
  const context = (extra: NodeJS.ProcessEnv = {}): ReturnType<typeof createContext> =>
    createContext(
      {
        PATH: path.join(root, 'no-go'),
        SAGA_LAB_CACHE_DIR: path.join(root, 'cache'),
        SAGA_LAB_STATE_DIR: path.join(root, 'state'),
        ...extra,
      },
      silentReporter(),
    );

  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'deploy-tools-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('are tools that `up` provisions with the infrastructure, each exporting its path', () => {
    const ctx = context();
    expect(DEPLOY_TOOLS).toEqual(['kustomize', 'kubeconform', 'compose', 'k8s-schemas']);
    const exported = DEPLOY_TOOLS.map((name) => {
      expect(INFRA).toContain(name);
      const component = createComponent(ctx, name);
      expect(component).toMatchObject({ name, kind: 'tool' });
      expect(component.launch).toBeUndefined();
      return component.exports();
    });
    expect(exported).toEqual([
      { KUSTOMIZE_BIN: path.join(root, 'cache', 'kustomize', ctx.versions.kustomize, 'bin', 'kustomize') },
      {
        KUBECONFORM_BIN: path.join(
          root,
          'cache',
          'kubeconform',
          ctx.versions.kubeconform,
          'bin',
          'kubeconform',
        ),
      },
      {
        DOCKER_COMPOSE_BIN: path.join(
          root,
          'cache',
          'compose',
          ctx.versions.compose,
          'bin',
          'docker-compose',
        ),
      },
      { K8S_SCHEMAS_DIR: path.join(root, 'cache', 'k8s-schemas', ctx.versions.kubernetes) },
    ]);
  });

  it('build kustomize and kubeconform with `go install`, and compose inside its own module', () => {
    const ctx = context();
    expect(kustomizeBuild(ctx)).toMatchObject({ package: 'sigs.k8s.io/kustomize/kustomize/v5' });
    expect(kustomizeBuild(ctx).mainModule).toBeUndefined();
    expect(kubeconformBuild(ctx)).toMatchObject({
      package: 'github.com/yannh/kubeconform/cmd/kubeconform',
      ldflags: `-X main.version=v${ctx.versions.kubeconform}`,
    });
    // compose's go.mod has exclude lines, which `go install …@version` refuses.
    expect(composeBuild(ctx)).toMatchObject({
      package: './cmd',
      mainModule: 'github.com/docker/compose/v2',
      ldflags: `-X github.com/docker/compose/v2/internal.Version=v${ctx.versions.compose}`,
    });
    expect(path.basename(composeBuild(ctx).binary)).toBe('docker-compose');
  });

  it('need go only until built, and use a binary or a schema directory of the user’s own as it is', async () => {
    const ctx = context();
    const kustomize = createComponent(ctx, 'kustomize');
    await expect(kustomize.preflight()).rejects.toThrow(
      /`go` was not found on PATH; it is needed to build kustomize/,
    );
    const schemas = k8sSchemasComponent(ctx);
    await expect(schemas.preflight()).rejects.toThrow(
      /`go` was not found on PATH; it is needed to download the Kubernetes \d+\.\d+\.\d+ OpenAPI documents/,
    );
    expect(await schemas.healthy()).toBe(false);
    const layout = schemaLayout(path.join(root, 'cache'), ctx.versions.kubernetes);
    mkdirSync(path.join(layout.dir, `v${ctx.versions.kubernetes}-standalone-strict`), { recursive: true });
    writeFileSync(layout.marker, '{}');
    await expect(schemas.preflight()).resolves.toBeUndefined();
    await expect(schemas.provision()).resolves.toBeUndefined(); // generated already: go is not asked for
    expect(await schemas.healthy()).toBe(true);

    const own = path.join(root, 'own-schemas');
    const external = context({ K8S_SCHEMAS_DIR: `${own}/`, KUSTOMIZE_BIN: '/opt/kustomize' });
    expect(external.config['k8s-schemas'].managed).toBe(false);
    expect(k8sSchemasComponent(external).exports()).toEqual({ K8S_SCHEMAS_DIR: own });
    expect(createComponent(external, 'kustomize').version).toBe('external');
    await expect(createComponent(external, 'kustomize').preflight()).resolves.toBeUndefined();
    expect(() => context({ K8S_SCHEMAS_DIR: 'schemas' })).toThrow(
      /K8S_SCHEMAS_DIR="schemas" is not an absolute path to a directory of JSON schemas/,
    );
  });
});
