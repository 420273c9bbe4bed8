import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SERVICES, System } from '@saga-lab/stack';
import { writeRun } from '../src/cli';
import { runScenario } from '../src/run';
import { SCENARIOS } from '../src/scenarios';

/**
 * Every scenario in its smoke size (seconds, a low rate) against the test profile's stack, with the real
 * generator: so none of them rots between full runs. Smoke thresholds bound errors only; the findings
 * (one order per idempotency key, origin loads on a cold cache, the 429's headers, the breaker opening,
 * pending orders) are checked as in a full run.
 */
describe('load scenarios, smoke size', () => {
  const lines: string[] = [];
  const log = (line: string): void => void lines.push(line);
  let system: System;
  let runningBefore: string[];
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'load-e2e-'));

  beforeAll(async () => {
    system = System.fromProcess(log);
    runningBefore = SERVICES.filter((name) => system.pid(name) !== undefined);
  });

  afterAll(async () => {
    for (const name of [...SERVICES].reverse())
      if (!runningBefore.includes(name) && system.pid(name) !== undefined) await system.stop(name);
    await system.close();
    rmSync(workDir, { recursive: true, force: true });
  }, 120_000);

  afterEach(() => {
    lines.length = 0;
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, scenario) => {
    const vegeta = process.env['VEGETA_BIN'];
    if (!vegeta) throw new Error('VEGETA_BIN is not set: npm test provisions vegeta with the stack');
    const result = await runScenario(scenario, {
      mode: 'smoke',
      system,
      vegeta,
      generator: 'vegeta',
      workDir,
      command: `npm run load -- ${scenario.name} --smoke`,
      log,
    });
    const failed = result.variants.flatMap((v) => [
      ...v.thresholds.filter((t) => !t.passed).map((t) => `${v.name}: ${t.attack} ${t.metric} = ${t.actual}`),
      ...(v.failures ?? []).map((f) => `${v.name}: ${f}`),
    ]);
    if (failed.length) process.stderr.write(`${scenario.name}:\n${lines.join('\n')}\n`);
    expect(failed).toEqual([]);
    expect(result.passed).toBe(true);
    // Every variant ran its attacks and got answers.
    for (const variant of result.variants)
      for (const attack of variant.attacks) expect(attack.requests).toBeGreaterThan(0);
    const report = writeRun(result, path.join(workDir, 'out'));
    expect(readFileSync(report, 'utf8')).toContain(scenario.title);
  });
});
