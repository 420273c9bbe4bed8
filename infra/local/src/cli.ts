import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { runDemo } from './commands/demo';
import { runTests } from './commands/test';
import { createComponent } from './components';
import { COMPONENTS, RUNTIME_COMPONENTS, selectComponents } from './config';
import { logFile } from './context';
import { StackError } from './errors';
import { tailFile } from './proc';
import { createContext, formatTable, redact, status, stopAll, up } from './stack';

const USAGE = `usage:
  npm start                              provision and start everything, print the URLs
  npm test                               start what is missing, run every check and test
  npm run demo                           place one order per saga outcome, print each saga's history
  npm run stack -- up [component...]     provision and start (idempotent)
  npm run stack -- down [component...]   stop what \`up\` started
  npm run stack -- status                component, version, pid, address, healthy
  npm run stack -- logs <component> [-f] the component's log (follow with -f)
  npm run stack -- env                   the client environment (KAFKA_BROKERS=...)
  npm run stack -- exec <cmd> [args]     run a command with that environment
components: ${COMPONENTS.join(', ')}`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const ctx = createContext();
  switch (command) {
    case 'start': {
      const started = Date.now();
      const { env } = await up(ctx, RUNTIME_COMPONENTS);
      process.stdout.write(`\n${formatTable(await status(ctx))}\n\n`);
      process.stdout.write(urls(env));
      process.stdout.write(
        `\nUp in ${((Date.now() - started) / 1000).toFixed(1)}s. Stop with: npm run stack -- down\n`,
      );
      return 0;
    }
    case 'test':
      // The tests get a stack of their own (own state directory, ports + 10000): the user's data is never touched.
      return runTests(createContext({ ...process.env, SAGA_LAB_PROFILE: 'test' }, ctx.reporter));
    case 'demo':
      return runDemo(ctx);
    case 'exec':
      return execWithEnv(ctx, rest);
    case 'up': {
      await up(ctx, selectComponents(rest));
      process.stdout.write(`${formatTable(await status(ctx, selectComponents(rest)))}\n`);
      return 0;
    }
    case 'down': {
      const stopped = await stopAll(ctx, selectComponents(rest).reverse());
      if (stopped.length === 0) ctx.reporter.info('Nothing was stopped.');
      return 0;
    }
    case 'status': {
      const rows = await status(ctx, selectComponents(rest));
      process.stdout.write(`${formatTable(rows)}\n`);
      return rows.every((r) => r.healthy === 'yes' || r.healthy === 'installed') ? 0 : 3;
    }
    case 'logs':
      return logs(ctx, rest);
    case 'env': {
      const components = selectComponents(rest);
      for (const name of components) {
        for (const [key, value] of Object.entries(createComponent(ctx, name).exports())) {
          process.stdout.write(`export ${key}=${JSON.stringify(value)}\n`);
        }
      }
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new StackError(`Unknown command: ${command}.`, `Run \`npm run stack -- help\` for the list.`);
  }
}

function urls(env: Record<string, string>): string {
  const lines = [
    ['Public API', env['GATEWAY_URL'] && `${env['GATEWAY_URL']}/v1 (docs: ${env['GATEWAY_URL']}/docs)`],
    [
      'Demo users',
      env['GATEWAY_DEMO_PASSWORD'] &&
        `alice / ${env['GATEWAY_DEMO_PASSWORD']} (customer), admin / ${env['GATEWAY_ADMIN_PASSWORD']} (admin)`,
    ],
    ['Order API', env['ORDER_URL'] && `${env['ORDER_URL']}/orders`],
    ['Catalog API', env['INVENTORY_URL'] && `${env['INVENTORY_URL']}/products`],
    ['Payment faults', env['PAYMENT_URL'] && `${env['PAYMENT_URL']}/provider/faults`],
    ['Kafka brokers', env['KAFKA_BROKERS']],
    ['PostgreSQL', env['DATABASE_URL'] && redact(env['DATABASE_URL'])],
    ['Redis', env['REDIS_URL']],
    [
      'Consul UI',
      env['CONSUL_HTTP_ADDR'] && `http://${env['CONSUL_HTTP_ADDR'].replace(/^https?:\/\//, '')}/ui/`,
    ],
    ['Zipkin UI', env['ZIPKIN_URL'] && `${env['ZIPKIN_URL']}/zipkin/`],
    // Built without its web UI (see components/prometheus.ts): the HTTP API is what there is to open.
    [
      'Prometheus API',
      env['PROMETHEUS_URL'] &&
        `${env['PROMETHEUS_URL']}/api/v1/alerts (also /api/v1/targets, /api/v1/query?query=up)`,
    ],
    ['Toxiproxy API', env['TOXIPROXY_URL']],
    ['Schemathesis', env['SCHEMATHESIS_BIN']],
    ['Vegeta', env['VEGETA_BIN']],
    ['Kustomize', env['KUSTOMIZE_BIN']],
    ['Kubeconform', env['KUBECONFORM_BIN']],
    ['Docker Compose', env['DOCKER_COMPOSE_BIN']],
    ['K8s schemas', env['K8S_SCHEMAS_DIR']],
  ].filter((entry): entry is [string, string] => Boolean(entry[1]));
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${label.padEnd(width)}  ${value}`).join('\n') + '\n';
}

/** Runs a command with every component's client environment (for load scripts and ad-hoc tools). */
function execWithEnv(ctx: ReturnType<typeof createContext>, argv: string[]): Promise<number> {
  const [command, ...args] = argv[0] === '--' ? argv.slice(1) : argv;
  if (!command)
    throw new StackError('exec needs a command.', 'Usage: npm run stack -- exec <command> [args...]');
  const env = {
    ...ctx.env,
    ...Object.assign({}, ...COMPONENTS.map((name) => createComponent(ctx, name).exports())),
  };
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env, cwd: ctx.paths.repoRoot });
    child.once('error', reject);
    child.once('close', (code) => resolve(code ?? 1));
  });
}

async function logs(ctx: ReturnType<typeof createContext>, args: string[]): Promise<number> {
  const follow = args.includes('-f') || args.includes('--follow');
  const names = selectComponents(args.filter((a) => !a.startsWith('-')));
  const files = names.map((name) => logFile(ctx, name)).filter((file) => existsSync(file));
  if (files.length === 0) {
    ctx.reporter.info('No logs yet: start the stack with `npm start`.');
    return 0;
  }
  if (follow) {
    return new Promise((resolve) => {
      spawn('tail', ['-n', '50', '-F', ...files], { stdio: 'inherit' }).once('close', (code) =>
        resolve(code ?? 0),
      );
    });
  }
  for (const file of files) process.stdout.write(`==> ${file} <==\n${tailFile(file, 50)}\n\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof StackError) {
      process.stderr.write(`\nerror: ${error.message}\n  fix: ${error.fix}\n`);
    } else {
      process.stderr.write(
        `\nerror: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(1);
  },
);
