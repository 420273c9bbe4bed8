import { existsSync } from 'node:fs';
import path from 'node:path';
import { LOOPBACK, SERVICES } from '../config';
import { ensureDir, logFile, pidFile, type Component, type StackContext } from '../context';
import { which } from '../proc';
import { httpOk } from './probes';
import { buildGoBinary, goBinaryPath, requireTool, writeAtomic } from './toolchain';

/** The alert rules the stack's Prometheus evaluates; `promtool test rules` proves them in the int tests. */
export const alertRulesFile = (repoRoot: string): string =>
  path.join(repoRoot, 'infra', 'prometheus', 'alerts.yml');

/**
 * Prometheus's Go module carries its releases as v0.<major><minor>.<patch> tags (3.16.0 is v0.316.0; the
 * 2.x line was v0.<minor>.<patch>).
 */
export function prometheusModuleVersion(version: string): string {
  const [major = 0, minor = 0, patch = 0] = version.split('.').map(Number);
  if (major < 2) throw new Error(`Prometheus ${version} has no Go module release to build from.`);
  return `v0.${major === 2 ? minor : major * 100 + minor}.${patch}`;
}

/** Where the stack's build puts prometheus and promtool (one build, one directory). */
export function prometheusBinaries(ctx: StackContext): { prometheus: string; promtool: string } {
  const prometheus = goBinaryPath(ctx, 'prometheus', ctx.versions.prometheus, 'prometheus');
  return { prometheus, promtool: path.join(path.dirname(prometheus), 'promtool') };
}

/** The promtool built with the stack's Prometheus, or else one on PATH. */
export function findPromtool(ctx: StackContext): string | undefined {
  const { promtool } = prometheusBinaries(ctx);
  return existsSync(promtool) ? promtool : which('promtool', ctx.env['PATH']);
}

export interface PrometheusConfigInput {
  /** Consul's HTTP address as the stack knows it: `host:port` or `http(s)://host:port`. */
  readonly consulAddress: string;
  /** Absolute path of the alert rules file. */
  readonly rulesFile: string;
}

/**
 * Scrapes every Saga Lab service instance registered in Consul — the same registry the services
 * call each other through, so whatever runs (the stack's services, or the ones the e2e tests start on
 * other ports) is scraped without a list of ports here.
 */
export function prometheusConfig({ consulAddress, rulesFile }: PrometheusConfigInput): object {
  const consul = new URL(/^https?:\/\//.test(consulAddress) ? consulAddress : `http://${consulAddress}`);
  return {
    global: {
      scrape_interval: '5s',
      // Rules run as often as scrapes land, so a `for:` clause counts from the first bad sample.
      evaluation_interval: '5s',
    },
    rule_files: [rulesFile],
    scrape_configs: [
      {
        job_name: 'saga-lab',
        metrics_path: '/metrics',
        // Every service labels its own series `service` (libs/observability), and the gateway's upstream
        // counter uses `service` for the service it calls: kept as written rather than renamed to
        // `exported_service`. The relabelling below names the series that carry none (`up`, `scrape_*`).
        honor_labels: true,
        consul_sd_configs: [
          {
            server: consul.host,
            scheme: consul.protocol.replace(/:$/, ''),
            services: [...SERVICES],
            // Bounds how long a new instance (or Consul coming up after Prometheus) goes unseen; the
            // default is 30 s.
            refresh_interval: '5s',
          },
        ],
        relabel_configs: [
          { source_labels: ['__meta_consul_service'], target_label: 'service' },
          { source_labels: ['__address__'], target_label: 'instance' },
        ],
      },
    ],
  };
}

/** JSON is YAML: rendering with JSON.stringify leaves no value to YAML's quoting rules. */
export const renderPrometheusConfig = (input: PrometheusConfigInput): string =>
  `${JSON.stringify(prometheusConfig(input), null, 2)}\n`;

/**
 * Prometheus built from the Go module proxy, like Consul and Toxiproxy, rather than installed from Debian:
 * Debian 12's package (2.42) is built without Consul service discovery, which is how the stack finds what
 * to scrape. Only that discovery and DNS discovery (which the production-shaped Kubernetes overlay scrapes
 * pods by) are compiled in (`remove_all_sd`, `enable_consul_sd`, `enable_dns_sd`), which leaves out the
 * cloud providers' SDKs; promtool, which the alert rules' unit tests run, is built with it.
 * The module carries no web UI (its assets are built with npm in Prometheus's own release process): the
 * stack's Prometheus answers on its HTTP API only. 3.16.0's go.mod, unlike 3.15's, has no replace or
 * exclude lines, so `go install` takes it without a wrapper module (as Consul needs); it
 * requires Go 1.26.7 or newer.
 */
export function prometheusComponent(ctx: StackContext): Component {
  const cfg = ctx.config.prometheus;
  const port = cfg.ports[0] ?? 9090;
  const version = ctx.versions.prometheus;
  const { prometheus: binary } = prometheusBinaries(ctx);
  const dir = path.join(ctx.paths.stateDir, 'prometheus');
  const configFile = path.join(dir, 'prometheus.yml');
  return {
    name: 'prometheus',
    version,
    kind: 'server',
    stopSignal: 'SIGTERM',
    startTimeoutMs: 30_000,
    async preflight() {
      if (!existsSync(binary)) requireTool(ctx, 'go', 'build Prometheus from the Go module proxy');
    },
    provision: () =>
      buildGoBinary(ctx, {
        name: 'prometheus',
        version,
        binary,
        package: 'github.com/prometheus/prometheus/cmd/prometheus',
        companions: ['github.com/prometheus/prometheus/cmd/promtool'],
        moduleVersion: prometheusModuleVersion(version),
        tags: ['remove_all_sd', 'enable_consul_sd', 'enable_dns_sd'],
        ldflags: `-X github.com/prometheus/common/version.Version=${version}`,
      }),
    // Written at every start: the Consul address differs between profiles and may come from CONSUL_HTTP_ADDR.
    async prepare() {
      writeAtomic(
        configFile,
        renderPrometheusConfig({
          consulAddress: ctx.config.consul.address,
          rulesFile: alertRulesFile(ctx.paths.repoRoot),
        }),
      );
    },
    launch: () => ({
      command: binary,
      args: [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${ensureDir(path.join(dir, 'data'))}`,
        // A lab's history: a day is plenty, and keeps the state directory small.
        '--storage.tsdb.retention.time=1d',
        `--web.listen-address=${LOOPBACK}:${port}`,
      ],
      logFile: logFile(ctx, 'prometheus'),
      pidFile: pidFile(ctx, 'prometheus'),
    }),
    healthy: () => httpOk(`${cfg.address}/-/ready`),
    exports: () => ({ PROMETHEUS_URL: cfg.address }),
  };
}
