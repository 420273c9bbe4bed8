/**
 * The gateway's maximum rate, as a ratio against a bare `node:http` hello world measured in the same run on
 * the same machine (docs/architecture.md §10). For each target — the hello world (started here as a child
 * process), then the gateway's cached product read (`GET /v1/products/{id}` with a bearer token, one login up
 * front) — the k6 scenario max-rate.k6.js runs at each arrival rate of a ladder, one target at a time. Writes
 * load-tests/results/gateway-<date>.json and .md with the machine it ran on.
 *
 *   npm start                # the stack, with the gateway on GATEWAY_URL (default http://127.0.0.1:3000)
 *   npm run load:gateway     # the demo user comes from GATEWAY_DEMO_USER / GATEWAY_DEMO_PASSWORD
 *   RATES=1000,2000,4000 DURATION=10s TARGETS=hello-world npm run load:gateway   # the baseline alone
 *
 * A step holds when fewer than MAX_ERROR_RATE (1%) of its requests failed (non-200, timeout, connection
 * error) and k6 dropped at most MAX_DROPPED_SHARE (1%) of the iterations it had to start (no free VU:
 * the target was too slow to keep up). A target's maximum rate is the highest achieved rate (requests
 * completed ÷ step duration) among the steps that held.
 */
import path from 'node:path';
import { k6Version } from '../shared/k6';
import { RESULTS_DIR, describeMachine, today, writeResults } from '../shared/results';
import { required, runScript } from '../shared/script';
import { ladder, type TargetResult } from './measure';
import { report } from './report';
import { TARGETS, settings } from './settings';
import { gatewayTarget, helloWorldTarget, startHelloWorld, stop } from './targets';

async function main(): Promise<void> {
  const s = settings();
  const k6 = required(
    'K6_BIN',
    'k6 is not provisioned (it is AGPL-licensed): point K6_BIN at a k6 of your own, e.g. K6_BIN=$(which k6)',
  );
  const k6Line = k6Version(k6);
  const results: TargetResult[] = [];
  // The gateway is checked first (login, one read) so a missing gateway fails in seconds, not after the baseline.
  const gateway = s.targets.includes('gateway') ? await gatewayTarget(s) : undefined;
  if (s.targets.includes('hello-world')) {
    const hello = await startHelloWorld();
    const cleanup = (): void => void hello.child.kill('SIGKILL');
    process.once('exit', cleanup);
    try {
      results.push(await ladder(k6, s, helloWorldTarget(hello.url, hello.child)));
    } finally {
      await stop(hello.child);
      process.off('exit', cleanup);
    }
  }
  if (gateway) results.push(await ladder(k6, s, gateway));

  const stamp = today();
  const knobs = [
    `RATES=${s.rates.join(',')}`,
    `DURATION=${s.duration}`,
    ...(s.targets.length < TARGETS.length ? [`TARGETS=${s.targets.join(',')}`] : []),
  ];
  const command = `${knobs.join(' ')} npm run load:gateway`;
  const { json, markdown } = report(s, results, { stamp, machine: describeMachine(), k6: k6Line, command });
  const out = process.env['OUT'] ?? path.join(RESULTS_DIR, `gateway-${stamp}`);
  writeResults(out, json, `${markdown}\n`);
  process.stdout.write(`${markdown}\nWrote ${out}.json and ${out}.md\n`);
}

runScript(main);
