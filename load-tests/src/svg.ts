/**
 * A small line-chart renderer for the reports: plain SVG text, no dependencies, readable on GitHub (a white
 * background, so dark mode does not hide the black text). Points whose x or y is not a finite number — and,
 * on a log scale, points whose y is not positive — leave a gap in their line; a point with no neighbour is
 * drawn as a dot, so a one-second series still shows.
 */

export type Point = readonly [x: number, y: number];

export interface Series {
  readonly name: string;
  readonly points: readonly Point[];
  /** A CSS colour instead of the palette's (e.g. red for errors). */
  readonly color?: string;
}

export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Pixels; 720 × 320 by default. */
  readonly width?: number;
  readonly height?: number;
  /** A logarithmic y axis (latencies whose tail is orders of magnitude above the median). */
  readonly yLog?: boolean;
}

/** Distinguishable colours (Tableau 10); series beyond them repeat the colours dashed. */
export const PALETTE: readonly string[] = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

const DEFAULT_WIDTH = 720;
const DEFAULT_HEIGHT = 320;
const FONT_SIZE = 12;
/** A rough width of one character at FONT_SIZE, to make room for labels without measuring text. */
const CHAR_WIDTH = 7;
const LEGEND_CHARS = 28;

/** One chart, as a complete SVG document. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? DEFAULT_WIDTH;
  const height = options.height ?? DEFAULT_HEIGHT;
  return document(options.title, width, height, panel(options, width, height));
}

/** Charts stacked one above the other in one SVG document (e.g. throughput above latency, same x axis). */
export function stackedCharts(title: string, panels: readonly LineChartOptions[]): string {
  const width = Math.max(DEFAULT_WIDTH, ...panels.map((p) => p.width ?? DEFAULT_WIDTH));
  // One frame for all, so that the panels' x axes line up.
  const frames = panels.map((p) => frameOf(p, p.height ?? DEFAULT_HEIGHT));
  const frame: Frame = {
    left: Math.max(0, ...frames.map((f) => f.left)),
    legendWidth: Math.max(0, ...frames.map((f) => f.legendWidth)),
  };
  let top = 0;
  const parts: string[] = [];
  for (const p of panels) {
    const height = p.height ?? DEFAULT_HEIGHT;
    parts.push(`<g transform="translate(0,${top})">${panel(p, width, height, frame)}</g>`);
    top += height;
  }
  return document(title, width, Math.max(top, 1), parts.join('\n'));
}

/** Text for an SVG text node or attribute. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/**
 * About `count` round tick values (1, 2 or 5 × a power of ten apart) from a multiple of the step at or below
 * `min` to one at or above `max`; the first and last ticks are the axis' ends.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    if (min === 0) return niceTicks(0, 1, count);
    const pad = Math.abs(min) / 2;
    return niceTicks(min - pad, max + pad, count);
  }
  const step = niceStep((max - min) / Math.max(1, count));
  const first = Math.floor(min / step + 1e-9);
  const last = Math.ceil(max / step - 1e-9);
  const ticks: number[] = [];
  for (let i = first; i <= last; i++) ticks.push(clean(i * step, step));
  return ticks;
}

/** Ticks of a log axis: the powers of ten around [min, max] (min > 0), with 2 and 5 between when few. */
export function logTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [1, 10];
  const lo = Math.floor(Math.log10(Math.min(min, max)) + 1e-9);
  let hi = Math.ceil(Math.log10(Math.max(min, max)) - 1e-9);
  if (hi === lo) hi = lo + 1;
  const ticks: number[] = [];
  const between = hi - lo <= 2 ? [1, 2, 5] : [1];
  for (let e = lo; e <= hi; e++) {
    for (const m of between) {
      if (e === hi && m > 1) break;
      ticks.push(clean(m * 10 ** e, 10 ** e));
    }
  }
  return ticks;
}

/** A tick value as text: at most the decimals the step needs (no trailing zeros), thousands separated. */
export function formatTick(value: number, step: number): string {
  const decimals = step > 0 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))) : 0;
  const fixed = (Object.is(value, -0) ? 0 : value).toFixed(decimals);
  const [int = '0', frac] = fixed.split('.');
  const sign = int.startsWith('-') ? '-' : '';
  const digits = sign ? int.slice(1) : int;
  const grouped = digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const decimalsShown = frac?.replace(/0+$/, '');
  const text = `${sign}${grouped}${decimalsShown ? `.${decimalsShown}` : ''}`;
  return text === '-0' ? '0' : text;
}

/** A legend entry's text, shortened so the legend keeps to a column. */
function legendText(name: string): string {
  return name.length > LEGEND_CHARS ? `${name.slice(0, LEGEND_CHARS - 1)}…` : name;
}

function niceStep(raw: number): number {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** Removes floating-point noise (0.30000000000000004) from a multiple of `step`. */
function clean(value: number, step: number): number {
  const decimals = Math.max(0, Math.min(12, -Math.floor(Math.log10(step)) + 2));
  const rounded = Number(value.toFixed(decimals));
  return Object.is(rounded, -0) ? 0 : rounded;
}

function document(title: string, width: number, height: number, body: string): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="sans-serif" font-size="${FONT_SIZE}">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

interface Axis {
  readonly ticks: number[];
  readonly labels: string[];
  readonly toPixel: (value: number) => number;
}

/** Pixel coordinates with one decimal; every value reaching here is finite. */
const px = (value: number): string => (Math.round(value * 10) / 10).toFixed(1).replace(/\.0$/, '');

/** Where a panel's plot begins (after the y tick labels) and how wide its legend column is. */
interface Frame {
  readonly left: number;
  readonly legendWidth: number;
}

const TOP = 40;
const BOTTOM_MARGIN = 44;

const usableFor =
  (yLog: boolean) =>
  (p: Point): boolean =>
    Number.isFinite(p[0]) && Number.isFinite(p[1]) && (!yLog || p[1] > 0);

function yTicksOf(options: LineChartOptions, height: number): { ticks: number[]; labels: string[] } {
  const yLog = options.yLog ?? false;
  const ys = options.series.flatMap((s) => s.points.filter(usableFor(yLog)).map((p) => p[1]));
  if (yLog) {
    const ticks = logTicks(ys.length ? Math.min(...ys) : 1, ys.length ? Math.max(...ys) : 10);
    return { ticks, labels: ticks.map((t) => formatTick(t, t)) };
  }
  const lo = ys.length ? Math.min(0, ...ys) : 0;
  const hi = ys.length ? Math.max(...ys) : 1;
  const ticks = niceTicks(
    lo,
    hi === lo ? lo + 1 : hi,
    Math.max(2, Math.floor((height - BOTTOM_MARGIN - TOP) / 50)),
  );
  const step = ticks.length > 1 ? (ticks[1] as number) - (ticks[0] as number) : 1;
  return { ticks, labels: ticks.map((t) => formatTick(t, step)) };
}

function frameOf(options: LineChartOptions, height: number): Frame {
  const { labels } = yTicksOf(options, height);
  return {
    left: 36 + CHAR_WIDTH * Math.max(0, ...labels.map((l) => l.length)),
    legendWidth:
      options.series.length === 0
        ? 0
        : 40 + CHAR_WIDTH * Math.max(...options.series.map((s) => legendText(s.name).length)),
  };
}

function panel(
  options: LineChartOptions,
  width: number,
  height: number,
  frame: Frame = frameOf(options, height),
): string {
  const yLog = options.yLog ?? false;
  const usable = usableFor(yLog);
  const all = options.series.flatMap((s) => s.points.filter(usable));
  const xs = all.map((p) => p[0]);
  const top = TOP;
  const bottom = height - BOTTOM_MARGIN;
  const { ticks: yTicks, labels: yLabels } = yTicksOf(options, height);
  const { left } = frame;
  const right = width - frame.legendWidth - 16;

  const yMin = yTicks[0] as number;
  const yMax = yTicks[yTicks.length - 1] as number;
  const yAxis: Axis = {
    ticks: yTicks,
    labels: yLabels,
    toPixel: yLog
      ? (v) =>
          bottom -
          ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (bottom - top)
      : (v) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top),
  };

  const xLo = xs.length ? Math.min(...xs) : 0;
  const xHi = xs.length ? Math.max(...xs) : 1;
  const xTicks = niceTicks(xLo, xHi, Math.max(2, Math.floor((right - left) / 80)));
  const xStep = xTicks.length > 1 ? (xTicks[1] as number) - (xTicks[0] as number) : 1;
  const xMin = xTicks[0] as number;
  const xMax = xTicks[xTicks.length - 1] as number;
  const xAxis: Axis = {
    ticks: xTicks,
    labels: xTicks.map((t) => formatTick(t, xStep)),
    toPixel: (v) => left + ((v - xMin) / (xMax - xMin)) * (right - left),
  };

  const out: string[] = [];
  out.push(
    `<text x="${left}" y="22" font-size="${FONT_SIZE + 2}" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  // Grid and y ticks.
  yAxis.ticks.forEach((t, i) => {
    const y = px(yAxis.toPixel(t));
    out.push(`<line x1="${left}" y1="${y}" x2="${right}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(yAxis.labels[i] as string)}</text>`,
    );
  });
  xAxis.ticks.forEach((t, i) => {
    const x = px(xAxis.toPixel(t));
    out.push(`<line x1="${x}" y1="${bottom}" x2="${x}" y2="${bottom + 5}" stroke="#333333"/>`);
    out.push(
      `<text x="${x}" y="${bottom + 18}" text-anchor="middle">${escapeXml(xAxis.labels[i] as string)}</text>`,
    );
  });
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#333333"/>`);
  out.push(`<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#333333"/>`);
  out.push(
    `<text x="${px((left + right) / 2)}" y="${height - 8}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
  );
  const yMid = px((top + bottom) / 2);
  out.push(
    `<text x="14" y="${yMid}" text-anchor="middle" transform="rotate(-90 14 ${yMid})">${escapeXml(
      options.yLabel + (yLog ? ' (log scale)' : ''),
    )}</text>`,
  );
  if (all.length === 0) {
    out.push(
      `<text x="${px((left + right) / 2)}" y="${yMid}" text-anchor="middle" fill="#777777">no data</text>`,
    );
  }

  options.series.forEach((s, i) => {
    const colour = escapeXml(s.color ?? (PALETTE[i % PALETTE.length] as string));
    const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length] as string;
    const dashAttr = dash ? ` stroke-dasharray="${dash}"` : '';
    // Runs of usable points; anything else breaks the line.
    const runs: Point[][] = [];
    let run: Point[] = [];
    for (const p of s.points) {
      if (usable(p)) run.push(p);
      else if (run.length) {
        runs.push(run);
        run = [];
      }
    }
    if (run.length) runs.push(run);
    const lines = runs.filter((r) => r.length > 1);
    if (lines.length) {
      const d = lines
        .map((r) =>
          r
            .map((p, j) => `${j === 0 ? 'M' : 'L'}${px(xAxis.toPixel(p[0]))} ${px(yAxis.toPixel(p[1]))}`)
            .join(' '),
        )
        .join(' ');
      out.push(
        `<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5" stroke-linejoin="round"${dashAttr}/>`,
      );
    }
    for (const r of runs.filter((r) => r.length === 1)) {
      const p = r[0] as Point;
      out.push(
        `<circle cx="${px(xAxis.toPixel(p[0]))}" cy="${px(yAxis.toPixel(p[1]))}" r="2.5" fill="${colour}"/>`,
      );
    }
    // Legend entry.
    const ly = top + 8 + i * 18;
    const lx = right + 16;
    out.push(
      `<line x1="${lx}" y1="${ly}" x2="${lx + 20}" y2="${ly}" stroke="${colour}" stroke-width="2"${dashAttr}/>`,
    );
    out.push(
      `<text x="${lx + 26}" y="${ly}" dominant-baseline="middle">${escapeXml(legendText(s.name))}</text>`,
    );
  });
  return out.join('\n');
}
