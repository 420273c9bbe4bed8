import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
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
import { parsePythonProbe, systemUser } from './toolchain';
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
