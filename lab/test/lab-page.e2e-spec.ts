import 'reflect-metadata';
import { SagaInstances1732400000000, SagaTraceparent1732900000000 } from '@saga-lab/saga';
import { requireEnv, schemaDataSource, waitUntil } from '@saga-lab/testing';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ensureChromium } from '../src/page/chromium';
import type { LiveFile, ReportEntry } from '../src/page/lab-files';
import { startLabPage } from '../src/page/server';

/**
 * The lab page in Debian's Chromium, over a real saga table (a schema of the test's own in the order
 * database) and the files the lab runner writes, here written by the test: it shows what they say, and
 * follows them as they change. `LAB_PAGE_SCREENSHOT=1` also saves docs/images/lab-page.png.
 */
const SCREENSHOT = resolve(__dirname, '../../docs/images/lab-page.png');
const RUN_ID = '20261129-0830-kill-payment-s1';
const REPORT_ID = '20261129-0812-kill-payment-s7';
const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();

/** Saga rows in a few states: the oldest is terminal, the oldest in flight is `stuck`. */
const stuck = randomUUID();
const sagas = [
  { id: randomUUID(), phase: 'COMPLETED', state: 'CONFIRMED', ageSeconds: 900 },
  { id: randomUUID(), phase: 'COMPLETED', state: 'CONFIRMED', ageSeconds: 600 },
  { id: randomUUID(), phase: 'REJECTED', state: 'REJECTED', ageSeconds: 500 },
  { id: stuck, phase: 'RUNNING', state: 'AUTHORIZING_PAYMENT', ageSeconds: 320 },
  { id: randomUUID(), phase: 'COMPENSATING', state: 'RELEASING_STOCK', ageSeconds: 120 },
  { id: randomUUID(), phase: 'RUNNING', state: 'RESERVING_STOCK', ageSeconds: 5 },
];

const run = { id: RUN_ID, experiment: 'kill-payment', seed: 1, startedAt: ago(40) };
const duringFault: LiveFile = {
  updatedAt: ago(0),
  run: { ...run, phase: 'fault' },
  faults: [{ name: 'SIGKILL payment', since: ago(20) }],
  lastVerdict: {
    at: ago(600),
    runId: REPORT_ID,
    experiment: 'kill-payment',
    ok: false,
    invariants: [
      { name: 'no lost write', holds: false, offending: [stuck] },
      { name: 'money conserved', holds: true, offending: [] },
    ],
  },
};

const healed: LiveFile = {
  updatedAt: ago(0),
  run: { ...run, phase: 'done' },
  faults: [],
  lastVerdict: {
    at: ago(0),
    runId: RUN_ID,
    experiment: 'kill-payment',
    ok: true,
    invariants: [
      { name: 'no lost write', holds: true, offending: [] },
      { name: 'money conserved', holds: true, offending: [] },
    ],
  },
};

const report: ReportEntry = {
  id: REPORT_ID,
  experiment: 'kill-payment',
  seed: 7,
  startedAt: ago(700),
  ok: false,
  expected: 'caught',
  verdict: 'pass',
  report: `${REPORT_ID}/report.md`,
  timeline: `${REPORT_ID}/timeline.svg`,
};
const TIMELINE = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="60" viewBox="0 0 480 60">
  <rect x="0" y="20" width="480" height="20" fill="#d0d7de"/>
  <rect x="120" y="20" width="90" height="20" fill="#cf222e"/>
  <text x="124" y="15" font-size="11" font-family="sans-serif">SIGKILL payment</text>
</svg>`;

describe('lab page (Debian chromium, real PostgreSQL)', () => {
  const databaseUrl = requireEnv('ORDER_DATABASE_URL');
  const { dataSource, schema } = schemaDataSource(databaseUrl, 'lab_page', {
    migrations: [SagaInstances1732400000000, SagaTraceparent1732900000000],
    poolSize: 2,
  });
  /** The page's own connection string: the same database, resolving names in the test's schema. */
  const inSchema = (url: string): string => {
    const parsed = new URL(url);
    parsed.searchParams.set('options', `-c search_path=${schema.name}`);
    return parsed.toString();
  };
  let skipped: string | undefined;
  let stateDir: string;
  let reportsDir: string;
  let browser: Browser | undefined;
  const closers: (() => Promise<unknown>)[] = [];
  /** What the pages logged as errors or threw: nothing, or the test that saw it fails. */
  const browserErrors: string[] = [];
  afterEach(() => {
    expect(browserErrors.splice(0)).toEqual([]);
  });

  /** Jest cannot skip a test once it runs: a test without a browser says why and stops (fails in CI). */
  const noBrowser = (): boolean => {
    if (skipped) console.warn(`SKIPPED (no browser): ${skipped}`);
    return skipped !== undefined;
  };

  const writeLive = async (live: LiveFile): Promise<void> => {
    // As the runner does: a whole new file replaces the old one, so the page never reads half of one.
    const path = join(stateDir, 'lab', 'live.json');
    await writeFile(`${path}.tmp`, JSON.stringify(live, null, 2));
    await rename(`${path}.tmp`, path);
  };

  const openPage = async (url: string): Promise<Page> => {
    if (!browser) throw new Error('no browser');
    const context = await browser.newContext({ viewport: { width: 1280, height: 600 } });
    closers.push(() => context.close());
    const page = await context.newPage();
    page.on('pageerror', (error) => browserErrors.push(`${url}: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') browserErrors.push(`${url}: ${message.text()}`);
    });
    await page.goto(url);
    await page.waitForSelector('body[data-updated-at]');
    return page;
  };

  const stateCounts = (page: Page): Promise<string[]> =>
    page
      .getByTestId('saga-state-row')
      .evaluateAll((rows) =>
        rows.map(
          (row) =>
            `${row.getAttribute('data-state')}=${row.querySelector('[data-testid=saga-count]')?.textContent}`,
        ),
      );
  const text = (page: Page, testId: string): Promise<string> => page.getByTestId(testId).first().innerText();

  let page: Page;
  let labUrl: string;

  beforeAll(async () => {
    const outcome = await ensureChromium();
    if ('skip' in outcome) {
      if (process.env['CI'] === 'true')
        throw new Error(`The lab page's browser test cannot run: ${outcome.skip}`);
      skipped = outcome.skip;
      return;
    }
    stateDir = await mkdtemp(join(tmpdir(), 'lab-page-state-'));
    reportsDir = await mkdtemp(join(tmpdir(), 'lab-page-reports-'));
    await mkdir(join(stateDir, 'lab'));
    await mkdir(join(reportsDir, REPORT_ID));
    await writeFile(join(reportsDir, REPORT_ID, 'timeline.svg'), TIMELINE);
    await writeFile(join(reportsDir, REPORT_ID, 'report.md'), `# ${REPORT_ID}\n\nverdict: pass\n`);
    await writeFile(join(reportsDir, 'index.json'), JSON.stringify([report]));
    await writeLive(duringFault);

    await schema.create();
    await dataSource.initialize();
    await dataSource.runMigrations();
    for (const saga of sagas) {
      await dataSource.query(
        `INSERT INTO saga_instances (saga_id, saga_type, phase, state, step, data, history, correlation_id,
                                     version, created_at, updated_at)
         VALUES ($1, 'place-order', $2, $3, 0, '{}', '[]', $1, 1, now() - make_interval(secs => $4), now())`,
        [saga.id, saga.phase, saga.state, saga.ageSeconds],
      );
    }

    const lab = await startLabPage({
      host: '127.0.0.1',
      port: 0,
      stateDir,
      reportsDir,
      ordersDatabaseUrl: inSchema(databaseUrl),
    });
    closers.push(() => lab.close());
    labUrl = lab.url;
    browser = await chromium.launch({ executablePath: outcome.path, headless: true, args: ['--no-sandbox'] });
    page = await openPage(labUrl);
  }, 280_000);

  afterAll(async () => {
    // Last opened, first closed (pages before the servers), then the browser; each runs even if one fails.
    const failures: unknown[] = [];
    for (const close of closers.reverse()) await close().catch((error: unknown) => failures.push(error));
    await browser?.close();
    if (dataSource.isInitialized) {
      await dataSource.query(`DROP SCHEMA ${schema.name} CASCADE`);
      await dataSource.destroy();
    }
    if (stateDir) await rm(stateDir, { recursive: true, force: true });
    if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  });

  it('shows the sagas by state, the oldest in flight, the fault, the verdict and the last report', async () => {
    if (noBrowser()) return;
    await expect(stateCounts(page)).resolves.toEqual([
      'AUTHORIZING_PAYMENT=1',
      'CONFIRMED=2',
      'REJECTED=1',
      'RELEASING_STOCK=1',
      'RESERVING_STOCK=1',
    ]);
    await expect(text(page, 'sagas-in-flight')).resolves.toBe('3 in flight');
    await expect(text(page, 'oldest-saga-id')).resolves.toBe(stuck);
    await expect(text(page, 'oldest-saga-state')).resolves.toBe('AUTHORIZING_PAYMENT');
    const age = Number(await page.getByTestId('oldest-saga-age').getAttribute('data-seconds'));
    expect(age).toBeGreaterThanOrEqual(320);
    expect(age).toBeLessThan(320 + 60);

    await expect(text(page, 'run-id')).resolves.toBe(RUN_ID);
    await expect(text(page, 'run-phase')).resolves.toBe('fault');
    await expect(page.getByTestId('fault-name').allInnerTexts()).resolves.toEqual(['SIGKILL payment']);

    await expect(page.getByTestId('verdict').getAttribute('data-ok')).resolves.toBe('false');
    const violated = page.locator('[data-testid=invariant][data-holds=false]');
    await expect(violated.getByTestId('invariant-name').allInnerTexts()).resolves.toEqual(['no lost write']);
    await expect(violated.getByTestId('invariant-status').innerText()).resolves.toBe('violated');
    await expect(violated.getByTestId('offending-id').allInnerTexts()).resolves.toEqual([stuck]);
    await expect(
      page.locator('[data-testid=invariant][data-holds=true]').getByTestId('invariant-name').allInnerTexts(),
    ).resolves.toEqual(['money conserved']);

    const listed = page.getByTestId('report');
    await expect(
      listed.evaluateAll((items) => items.map((i) => i.getAttribute('data-report-id'))),
    ).resolves.toEqual([REPORT_ID]);
    await expect(listed.getByTestId('report-verdict').innerText()).resolves.toBe('pass');
    const image = listed.getByTestId('report-timeline');
    const width = await waitUntil(
      () =>
        image.evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth),
      { timeoutMs: 5_000, what: 'the report timeline to load' },
    );
    expect(width).toBe(480);
    const markdown = await fetch(`${labUrl}${await listed.getByTestId('report-link').getAttribute('href')}`);
    expect(markdown.status).toBe(200);
    await expect(markdown.text()).resolves.toContain(`# ${REPORT_ID}`);
    const unknown = await fetch(`${labUrl}/reports/..%2F..%2Fetc/report.md`);
    expect(unknown.status).toBe(404);
    await expect(unknown.json()).resolves.toEqual({
      error: { code: 'NOT_FOUND', message: expect.any(String) },
    });

    if (process.env['LAB_PAGE_SCREENSHOT'] === '1') {
      await mkdir(resolve(SCREENSHOT, '..'), { recursive: true });
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  });

  it('follows the lab live: the fault heals, the verdict turns ok, the sagas complete', async () => {
    if (noBrowser()) return;
    await writeLive(healed);
    await dataSource.query(
      `UPDATE saga_instances SET phase = 'COMPLETED', state = 'CONFIRMED', updated_at = now()
        WHERE phase IN ('RUNNING', 'COMPENSATING')`,
    );
    const started = Date.now();
    await waitUntil(
      async () =>
        (await page.getByTestId('no-faults').count()) === 1 &&
        (await page.getByTestId('verdict').getAttribute('data-ok')) === 'true' &&
        (await page.getByTestId('no-saga-in-flight').count()) === 1,
      { timeoutMs: 5_000, what: 'the page to show the healed lab' },
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    await expect(stateCounts(page)).resolves.toEqual(['CONFIRMED=5', 'REJECTED=1']);
    await expect(text(page, 'sagas-in-flight')).resolves.toBe('0 in flight');
    await expect(text(page, 'run-phase')).resolves.toBe('done');
    await expect(page.locator('[data-testid=invariant][data-holds=false]').count()).resolves.toBe(0);
    await expect(page.getByTestId('offending-id').count()).resolves.toBe(0);
  });

  it('shows a database it cannot reach, and the rest of the lab still', async () => {
    if (noBrowser()) return;
    // Port 1 on the loopback: nothing listens there, the connection is refused at once.
    const lab = await startLabPage({
      host: '127.0.0.1',
      port: 0,
      stateDir,
      reportsDir,
      ordersDatabaseUrl: 'postgres://postgres@127.0.0.1:1/orders',
    });
    closers.push(() => lab.close());
    const outage = await openPage(lab.url);
    await expect(text(outage, 'sagas-error')).resolves.toMatch(/^database unreachable: /);
    await expect(outage.getByTestId('saga-state-row').count()).resolves.toBe(0);
    await expect(text(outage, 'run-phase')).resolves.toBe('done');
    await expect(outage.getByTestId('report').count()).resolves.toBe(1);
  });
});
