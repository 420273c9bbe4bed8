import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  REPORTS_SHOWN,
  isReportId,
  liveFileSchema,
  parseJsonFile,
  readLiveFile,
  readReportFile,
  readReports,
  type ReportEntry,
} from './lab-files';

const report = (id: string): ReportEntry => ({
  id,
  experiment: 'kill-payment',
  seed: 1,
  startedAt: '2026-11-29T08:30:00.000Z',
  ok: false,
  expected: 'caught',
  verdict: 'pass',
  report: `${id}/report.md`,
  timeline: `${id}/timeline.svg`,
});

describe('report ids', () => {
  it.each(['20261129-0830-kill-payment-s1', 'a', 'run.2', 'A_b-c'])('accepts %s', (id) => {
    expect(isReportId(id)).toBe(true);
  });

  it.each(['', '.', '..', '../etc', 'a/b', 'a\\b', '.hidden', '-x', 'a b', 'a%2f', 'é', 'x'.repeat(81)])(
    'refuses %j',
    (id) => {
      expect(isReportId(id)).toBe(false);
    },
  );
});

describe('parsing the runner files', () => {
  it('names the file and the field when the shape is wrong', () => {
    const read = parseJsonFile(
      'live.json',
      '{"updatedAt":"x","run":null,"faults":[{}],"lastVerdict":null}',
      liveFileSchema,
    );
    expect(read).toEqual({
      error: expect.stringMatching(/^live\.json does not have the expected shape — faults\.0\.name/),
    });
  });

  it('says when the text is not JSON (a half-written file)', () => {
    expect(parseJsonFile('live.json', '{"updatedAt":', liveFileSchema)).toEqual({
      error: expect.stringMatching(/^live\.json is not valid JSON/),
    });
  });

  it('ignores fields the page does not know and defaults missing offending ids to none', () => {
    const read = parseJsonFile(
      'live.json',
      JSON.stringify({
        updatedAt: '2026-11-29T08:30:00.000Z',
        extra: 1,
        run: null,
        faults: [],
        lastVerdict: {
          at: 'x',
          runId: 'r',
          experiment: 'e',
          ok: true,
          invariants: [{ name: 'n', holds: true }],
        },
      }),
      liveFileSchema,
    );
    expect(read).toEqual({
      value: {
        updatedAt: '2026-11-29T08:30:00.000Z',
        run: null,
        faults: [],
        lastVerdict: {
          at: 'x',
          runId: 'r',
          experiment: 'e',
          ok: true,
          invariants: [{ name: 'n', holds: true, offending: [] }],
        },
      },
    });
  });
});

describe('reading the runner files from disk', () => {
  let stateDir: string;
  let reportsDir: string;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), 'lab-state-'));
    reportsDir = await mkdtemp(join(tmpdir(), 'lab-reports-'));
  });
  afterEach(async () => {
    await rm(stateDir, { recursive: true, force: true });
    await rm(reportsDir, { recursive: true, force: true });
  });

  it('reads no live file and no reports as nothing run yet, not as an error', async () => {
    await expect(readLiveFile(stateDir)).resolves.toEqual({ value: null });
    await expect(readReports(reportsDir)).resolves.toEqual({ value: [] });
  });

  it('reads the live file the runner writes', async () => {
    const live = {
      updatedAt: '2026-11-29T08:31:00.000Z',
      run: {
        id: 'r1',
        experiment: 'kill-payment',
        seed: 1,
        phase: 'fault',
        startedAt: '2026-11-29T08:30:00.000Z',
      },
      faults: [{ name: 'SIGKILL payment', since: '2026-11-29T08:30:30.000Z' }],
      lastVerdict: null,
    };
    await mkdir(join(stateDir, 'lab'));
    await writeFile(join(stateDir, 'lab', 'live.json'), JSON.stringify(live));
    await expect(readLiveFile(stateDir)).resolves.toEqual({ value: live });
  });

  it('keeps the newest reports only', async () => {
    const all = Array.from({ length: REPORTS_SHOWN + 3 }, (_, i) => report(`run-${i}`));
    await writeFile(join(reportsDir, 'index.json'), JSON.stringify(all));
    await expect(readReports(reportsDir)).resolves.toEqual({ value: all.slice(0, REPORTS_SHOWN) });
  });

  it('serves a report file by id, and nothing outside the reports directory', async () => {
    await mkdir(join(reportsDir, 'run-1'));
    await writeFile(join(reportsDir, 'run-1', 'timeline.svg'), '<svg/>');
    await writeFile(join(stateDir, 'timeline.svg'), 'secret');
    await expect(readReportFile(reportsDir, 'run-1', 'timeline.svg')).resolves.toEqual(Buffer.from('<svg/>'));
    await expect(readReportFile(reportsDir, 'run-1', 'report.md')).resolves.toBeUndefined();
    await expect(readReportFile(reportsDir, 'run-2', 'timeline.svg')).resolves.toBeUndefined();
    const outside = join('..', stateDir.split('/').pop() ?? '');
    await expect(readReportFile(reportsDir, outside, 'timeline.svg')).resolves.toBeUndefined();
  });
});
