import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * What the lab runner writes and the lab page reads: the live file (`<stateDir>/lab/live.json`, rewritten
 * as a run goes) and the reports index (`<reportsDir>/index.json`, newest first). Unknown fields are
 * ignored, so the runner may add some without breaking the page.
 */
const isoTime = z.string().min(1);

export const liveFileSchema = z.object({
  updatedAt: isoTime,
  run: z
    .object({
      id: z.string(),
      experiment: z.string(),
      seed: z.number(),
      phase: z.enum(['workload', 'fault', 'heal', 'check', 'done']),
      startedAt: isoTime,
    })
    .nullable(),
  faults: z.array(z.object({ name: z.string(), since: isoTime })),
  lastVerdict: z
    .object({
      at: isoTime,
      runId: z.string(),
      experiment: z.string(),
      ok: z.boolean(),
      invariants: z.array(
        z.object({ name: z.string(), holds: z.boolean(), offending: z.array(z.string()).default([]) }),
      ),
    })
    .nullable(),
});
export type LiveFile = z.output<typeof liveFileSchema>;

export const reportEntrySchema = z.object({
  id: z.string(),
  experiment: z.string(),
  seed: z.number(),
  startedAt: isoTime,
  ok: z.boolean(),
  expected: z.enum(['holds', 'caught']),
  verdict: z.enum(['pass', 'fail']),
  report: z.string(),
  timeline: z.string(),
});
export type ReportEntry = z.output<typeof reportEntrySchema>;

/** A value the page could read, or one sentence on why not; the page shows either. */
export type Readout<T> = { readonly value: T } | { readonly error: string };

/** How many reports the page lists: the newest. */
export const REPORTS_SHOWN = 10;

/**
 * A report id as the runner makes them (`20261129-0830-kill-payment-s1`): one path segment of letters,
 * digits, `.`, `_` and `-`, starting with a letter or digit — so never `.`, `..` or anything with a slash.
 */
const REPORT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/;
export const isReportId = (id: string): boolean => REPORT_ID.test(id);

/** The files of a report the page serves, by the name the URL uses. */
export const REPORT_FILES = {
  'timeline.svg': 'image/svg+xml',
  'report.md': 'text/markdown; charset=utf-8',
} as const;
export type ReportFile = keyof typeof REPORT_FILES;

export const liveFilePath = (stateDir: string): string => join(stateDir, 'lab', 'live.json');

/** Parses a JSON text against a schema; the error names the file and the first problems. */
export function parseJsonFile<S extends z.ZodType>(
  file: string,
  text: string,
  schema: S,
): Readout<z.output<S>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return { error: `${file} is not valid JSON: ${(error as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { value: parsed.data };
  const problems = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  return { error: `${file} does not have the expected shape — ${problems}` };
}

/** The text of a file, or undefined when it does not exist (anything else is an error). */
async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function readJson<S extends z.ZodType>(
  path: string,
  schema: S,
  missing: z.output<S>,
): Promise<Readout<z.output<S>>> {
  try {
    const text = await readIfExists(path);
    return text === undefined ? { value: missing } : parseJsonFile(path, text, schema);
  } catch (error) {
    return { error: `${path} cannot be read: ${(error as Error).message}` };
  }
}

/** The live file; null when it does not exist, i.e. nothing has run yet. */
export const readLiveFile = (stateDir: string): Promise<Readout<LiveFile | null>> =>
  readJson(liveFilePath(stateDir), liveFileSchema.nullable(), null);

/** The newest reports; none when there is no index yet. */
export async function readReports(reportsDir: string): Promise<Readout<ReportEntry[]>> {
  const read = await readJson(join(reportsDir, 'index.json'), z.array(reportEntrySchema), []);
  return 'value' in read ? { value: read.value.slice(0, REPORTS_SHOWN) } : read;
}

/** One file of a report, or undefined when the id is not a report id or the file does not exist. */
export async function readReportFile(
  reportsDir: string,
  id: string,
  file: ReportFile,
): Promise<Buffer | undefined> {
  if (!isReportId(id)) return undefined;
  try {
    return await readFile(join(reportsDir, id, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}
