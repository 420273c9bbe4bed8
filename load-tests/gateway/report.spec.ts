import { readFileSync } from 'node:fs';
import path from 'node:path';
import { RESULTS_DIR } from '../shared/results';
import type { TargetResult } from './measure';
import { report, type ReportMeta } from './report';
import type { Settings } from './settings';

interface ResultFile {
  date: string;
  machine: ReportMeta['machine'];
  k6: string;
  command: string;
  settings: Settings;
  targets: TargetResult[];
}

const read = (name: string): { data: ResultFile; json: string; markdown: string } => {
  const json = readFileSync(path.join(RESULTS_DIR, `${name}.json`), 'utf8');
  return {
    data: JSON.parse(json) as ResultFile,
    json,
    markdown: readFileSync(path.join(RESULTS_DIR, `${name}.md`), 'utf8'),
  };
};

const render = (data: ResultFile, targets = data.targets): { json: unknown; markdown: string } =>
  report(data.settings, targets, {
    stamp: data.date,
    machine: data.machine,
    k6: data.k6,
    command: data.command,
  });

// The committed results hold every input of their report: rendering them again must give the same files.
describe.each([
  'gateway-2026-11-23',
  'gateway-ratelimit-exact-2026-11-23',
  'gateway-ratelimit-approximate-2026-11-23',
])('the report of %s', (name) => {
  it('renders the committed result files byte for byte', () => {
    const { data, json, markdown } = read(name);
    const rendered = render(data);
    expect(`${JSON.stringify(rendered.json, null, 2)}\n`).toBe(json);
    expect(`${rendered.markdown}\n`).toBe(markdown);
  });
});

describe('the ratio of the maxima', () => {
  const { data } = read('gateway-2026-11-23');
  const [hello, gateway] = data.targets as [TargetResult, TargetResult];
  const ratioOf = (h: Partial<TargetResult>, g: Partial<TargetResult>): Record<string, unknown> => {
    const json = render(data, [
      { ...hello, ...h },
      { ...gateway, ...g },
    ]).json as Record<string, unknown>;
    return { ratio: json['ratioGatewayToHelloWorld'], is: json['ratioIs'] };
  };
  const row = (markdown: string): string | undefined =>
    markdown.split('\n').find((line) => line.startsWith('| gateway cached product read'));

  it('is exact when both ladders found their maximum', () => {
    expect(ratioOf({}, {})).toEqual({ ratio: 0.397, is: 'exact' });
  });

  it('is a bound when one maximum is only a lower bound, unknown when both are', () => {
    expect(ratioOf({}, { maxIsLowerBound: true })).toEqual({ ratio: 0.397, is: 'a lower bound' });
    expect(ratioOf({ maxIsLowerBound: true }, {})).toEqual({ ratio: 0.397, is: 'an upper bound' });
    expect(ratioOf({ maxIsLowerBound: true }, { maxIsLowerBound: true })).toEqual({
      ratio: 0.397,
      is: 'unknown (neither maximum was reached: add higher RATES)',
    });
    const { markdown } = render(data, [hello, { ...gateway, maxIsLowerBound: true }]);
    expect(row(markdown)).toContain('| ≥ 1985 | ≥ 0.397 |');
  });

  it('is not measured when a target did not run or no step held', () => {
    expect(ratioOf({}, { maxRate: null })).toEqual({ ratio: null, is: 'not measured' });
    const { markdown } = render(data, [hello, { ...gateway, maxRate: null }]);
    expect(row(markdown)).toContain('| none held | n/a |');
    expect((render(data, [gateway]).json as Record<string, unknown>)['ratioIs']).toBe('not measured');
  });
});
