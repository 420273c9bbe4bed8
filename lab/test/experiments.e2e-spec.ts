import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SERVICES, System } from '@saga-lab/stack';
import { chromium, type Browser } from 'playwright-core';
import { EXPERIMENTS, experiment, type Experiment } from '../src/experiments';
import { ensureChromium } from '../src/page/chromium';
import { startLabPage } from '../src/page/server';
import { runExperiment, type RunOptions } from '../src/runner';

/**
 * Every experiment, short (seconds of workload at a few orders per second), against the real stack of the
 * test profile: each must end as its definition says — every invariant holding, or, with a safeguard off,
 * the checker catching the invariant that safeguard protects. One of them is watched in Chromium on the
 * lab page while it runs.
 */
const lines: string[] = [];
const log = (line: string): void => void lines.push(line);
const options = (reportsDir: string): RunOptions => ({
  seed: 11,
  ratePerSecond: 4,
  durationMs: 8_000,
  convergeBoundMs: 45_000,
  reportsDir,
});

const expectation = (e: Experiment): string =>
  'holds' in e.expect ? 'every invariant holds' : `caught: ${e.expect.caught.join(' or ')}`;

describe('the failure lab (short runs of every experiment)', () => {
  const reportsDir = mkdtempSync(path.join(tmpdir(), 'saga-lab-reports-'));
  let system: System;
  let runningBefore: string[] = [];

  beforeAll(async () => {
    system = System.fromProcess(log);
    runningBefore = SERVICES.filter((name) => system.pid(name) !== undefined);
    await system.ensureUp();
  }, 300_000);

  afterAll(async () => {
    // The services this test started go down again; the infrastructure is `npm test`'s to stop.
    for (const name of [...SERVICES].reverse())
      if (!runningBefore.includes(name) && system.pid(name) !== undefined) await system.stop(name);
    await system.close();
  }, 120_000);

  afterEach(() => {
    lines.length = 0;
  });

  /** A run that did not end as expected prints its log: what was injected, healed and found. */
  const explain = (passed: boolean): void => {
    if (!passed) process.stdout.write(`${lines.join('\n')}\n`);
  };

  it('kill-payment, watched on the lab page in Chromium: the fault while it is active, then the verdict and the report', async () => {
    const outcome = await ensureChromium();
    if ('skip' in outcome) {
      if (process.env['CI'] === 'true')
        throw new Error(`the lab page's browser test cannot run: ${outcome.skip}`);
      console.warn(`SKIPPED the browser part (no browser): ${outcome.skip}`);
    }
    const page = await startLabPage({
      host: '127.0.0.1',
      port: 0,
      stateDir: system.stateDir,
      reportsDir,
      ordersDatabaseUrl: system.env('ORDER_DATABASE_URL'),
    });
    let browser: Browser | undefined;
    try {
      const running = runExperiment(system, experiment('kill-payment'), options(reportsDir), log);
      if ('path' in outcome) {
        browser = await chromium.launch({
          executablePath: outcome.path,
          headless: true,
          args: ['--no-sandbox'],
        });
        const tab = await browser.newPage();
        await tab.goto(page.url);
        // While the payment service is down: the fault on the page, and sagas in flight.
        await tab
          .getByTestId('fault-name')
          .filter({ hasText: 'SIGKILL payment' })
          .waitFor({ timeout: 30_000 });
        expect(await tab.getByTestId('run-phase').textContent()).toMatch(/fault/);
        const result = await running;
        explain(result.passed);
        // Once it is over: no fault, the run's verdict with every invariant holding, its report and picture.
        await tab.getByTestId('no-faults').waitFor({ timeout: 10_000 });
        await tab.locator(`[data-testid="verdict"][data-ok="true"]`).waitFor({ timeout: 10_000 });
        expect(await tab.getByTestId('verdict').textContent()).toContain(result.id);
        const invariants = tab.getByTestId('invariant');
        expect(await invariants.count()).toBe(7);
        const timeline = tab.getByTestId('report-timeline').first();
        await timeline.waitFor({ timeout: 10_000 });
        await timeline.evaluate(
          (img: { complete: boolean; naturalWidth: number }) =>
            new Promise<void>((resolve, reject) => {
              const started = Date.now();
              const check = (): void => {
                if (img.complete && img.naturalWidth > 0) resolve();
                else if (Date.now() - started > 10_000)
                  reject(new Error('the timeline picture did not load'));
                else setTimeout(check, 100);
              };
              check();
            }),
        );
        if (process.env['LAB_PAGE_SCREENSHOT'] === '1')
          await tab.screenshot({
            path: path.resolve(__dirname, '../../docs/images/lab-page.png'),
            fullPage: true,
          });
        expect(result.passed).toBe(true);
      } else {
        expect((await running).passed).toBe(true);
      }
    } finally {
      await browser?.close();
      await page.close();
    }
  });

  for (const e of EXPERIMENTS.filter((x) => x.name !== 'kill-payment')) {
    it(`${e.name}: ${expectation(e)}`, async () => {
      const result = await runExperiment(system, e, options(reportsDir), log);
      explain(result.passed);
      const broken = result.verdict.invariants.filter((i) => !i.holds);
      if ('holds' in e.expect) {
        expect(broken.map((i) => `${i.name}: ${i.details.join('; ')}`)).toEqual([]);
        expect(result.orders.acknowledged).toBeGreaterThan(0);
      } else {
        expect(broken.map((i) => i.name)).toEqual(
          expect.arrayContaining([expect.stringMatching(new RegExp(`^(${e.expect.caught.join('|')})$`))]),
        );
      }
      expect(result.passed).toBe(true);
    });
  }
});
