import {
  escapeXml,
  formatTick,
  lineChart,
  logTicks,
  niceTicks,
  PALETTE,
  stackedCharts,
  type Series,
} from './svg';

/** The attributes of every element `tag` in an SVG text. */
const elements = (svg: string, tag: string): Record<string, string>[] =>
  [...svg.matchAll(new RegExp(`<${tag}\\b([^>]*)/?>`, 'g'))].map((m) =>
    Object.fromEntries([...(m[1] as string).matchAll(/([\w-]+)="([^"]*)"/g)].map((a) => [a[1], a[2]])),
  );
const texts = (svg: string): string[] =>
  [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1] as string);

/** Every number in the coordinates and path data of a chart. */
const coordinates = (svg: string): string[] =>
  [...svg.matchAll(/\b(?:x|y|x1|x2|y1|y2|cx|cy|d|width|height|transform)="([^"]*)"/g)].flatMap((m) =>
    (m[1] as string)
      .replace(/translate|rotate|[ML]/g, ' ')
      .split(/[\s,()]+/)
      .filter((t) => t !== ''),
  );

const chart = (series: Series[], extra: { yLog?: boolean } = {}): string =>
  lineChart({ title: 'Latency', xLabel: 'seconds', yLabel: 'ms', series, ...extra });

describe('ticks', () => {
  it('chooses round steps covering the range', () => {
    expect(niceTicks(0, 29, 6)).toEqual([0, 5, 10, 15, 20, 25, 30]);
    expect(niceTicks(0, 1000, 4)).toEqual([0, 500, 1000]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(-3, 7, 5)).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    expect(niceTicks(5, 5, 4)).toEqual([2, 4, 6, 8]);
    expect(niceTicks(0, 0)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(NaN, 3)).toEqual([0, 1]);
    expect(logTicks(0.8, 800)).toEqual([0.1, 1, 10, 100, 1000]);
    expect(logTicks(3, 40)).toEqual([1, 2, 5, 10, 20, 50, 100]);
    expect(logTicks(10, 10)).toEqual([10, 20, 50, 100]);
    expect(logTicks(0, 10)).toEqual([1, 10]);
  });

  it('formats tick labels with the decimals the step needs and thousands separators', () => {
    expect(formatTick(12500, 2500)).toBe('12,500');
    expect(formatTick(0.30000000000000004, 0.1)).toBe('0.3');
    expect(formatTick(-0, 1)).toBe('0');
    expect(formatTick(-1500, 500)).toBe('-1,500');
    expect(formatTick(0.05, 0.05)).toBe('0.05');
    expect(formatTick(1, 0.5)).toBe('1');
    expect(formatTick(1.5, 0.5)).toBe('1.5');
  });
});

describe('lineChart', () => {
  const series: Series[] = [
    {
      name: 'p50',
      points: [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    },
    {
      name: 'p99 <tail> & "more"',
      points: [
        [0, 10],
        [1, NaN],
        [2, 30],
        [3, 40],
      ],
    },
  ];
  const svg = chart(series);

  it('is one SVG document with a white background, axes, labels and a legend', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="720" height="320"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(elements(svg, 'rect')[0]).toMatchObject({ fill: '#ffffff' });
    const labels = texts(svg);
    expect(labels).toEqual(expect.arrayContaining(['Latency', 'seconds', 'ms', 'p50', '0', '3', '0', '40']));
    expect(labels).toContain('p99 &lt;tail&gt; &amp; &quot;more&quot;');
    expect(svg).not.toContain('<tail>');
  });

  it('draws each series in its own colour, breaking lines at missing values and dotting lone points', () => {
    const paths = elements(svg, 'path');
    expect(paths.map((p) => p['stroke'])).toEqual([PALETTE[0], PALETTE[1]]);
    expect(new Set(paths.map((p) => p['stroke'])).size).toBe(2);
    // p50: one run of three points. p99: a lone point (a dot) then a run of two.
    expect(paths[0]!['d']!.match(/[ML]/g)).toEqual(['M', 'L', 'L']);
    expect(paths[1]!['d']!.match(/[ML]/g)).toEqual(['M', 'L']);
    const dots = elements(svg, 'circle');
    expect(dots).toHaveLength(1);
    expect(dots[0]!['fill']).toBe(PALETTE[1]);
  });

  it('places points on the axes’ scale', () => {
    // x from 0 to 3 and y from 0 to 40 (round ticks): the first p50 point is at the origin's left edge,
    // y = 1 just above the x axis, and the last p99 point at the plot's top right.
    const axes = elements(svg, 'line').filter((l) => l['stroke'] === '#333333' && l['y1'] !== l['y2']);
    const yAxis = axes.find((l) => l['x1'] === l['x2'] && Number(l['y2']) - Number(l['y1']) > 100)!;
    const left = Number(yAxis['x1']);
    const top = Number(yAxis['y1']);
    const bottom = Number(yAxis['y2']);
    const [first, ...rest] = elements(svg, 'path')[0]!
      ['d']!.split(/ ?[ML]/)
      .filter(Boolean);
    const [x0, y0] = first!.split(' ').map(Number);
    expect(x0).toBe(left);
    expect(y0).toBeCloseTo(bottom - (bottom - top) / 40, 0);
    const last = elements(svg, 'path')[1]!
      ['d']!.split(/ ?[ML]/)
      .filter(Boolean)
      .pop()!;
    expect(Number(last.split(' ')[1])).toBe(top);
    expect(rest).toHaveLength(2);
  });

  it('repeats colours dashed beyond the palette, or takes the colour a series asks for', () => {
    const many = chart(
      Array.from({ length: PALETTE.length + 1 }, (_, i) => ({
        name: `s${i}`,
        points: [
          [0, i],
          [1, i + 1],
        ] as const,
      })),
    );
    const paths = elements(many, 'path');
    expect(paths[PALETTE.length]!['stroke']).toBe(PALETTE[0]);
    expect(paths[PALETTE.length]!['stroke-dasharray']).toBeDefined();
    expect(paths[0]!['stroke-dasharray']).toBeUndefined();
    const red = chart([
      {
        name: 'errors',
        color: '#d62728',
        points: [
          [0, 1],
          [1, 2],
        ],
      },
    ]);
    expect(elements(red, 'path')[0]!['stroke']).toBe('#d62728');
  });

  it.each([
    ['no series', []],
    ['an empty series', [{ name: 'empty', points: [] }]],
    ['one point', [{ name: 'one', points: [[5, 7]] }]],
    [
      'all zero',
      [
        {
          name: 'zero',
          points: [
            [0, 0],
            [1, 0],
          ],
        },
      ],
    ],
    [
      'the same x',
      [
        {
          name: 'x',
          points: [
            [2, 1],
            [2, 3],
          ],
        },
      ],
    ],
    [
      'only non-finite values',
      [
        {
          name: 'bad',
          points: [
            [NaN, 1],
            [1, Infinity],
          ],
        },
      ],
    ],
  ] as [string, Series[]][])('gives finite coordinates for %s', (_name, data) => {
    for (const yLog of [false, true]) {
      const out = chart(data, { yLog });
      expect(out).not.toMatch(/NaN|Infinity|undefined/);
      for (const n of coordinates(out)) expect(Number.isFinite(Number(n))).toBe(true);
    }
  });

  it('shows "no data" when nothing can be drawn, and a dot for a single point', () => {
    expect(texts(chart([]))).toContain('no data');
    const one = chart([{ name: 'one', points: [[5, 7]] }]);
    expect(texts(one)).not.toContain('no data');
    expect(elements(one, 'circle')).toHaveLength(1);
    expect(elements(one, 'path')).toHaveLength(0);
  });

  it('leaves non-positive values out on a log scale, and labels the axis as such', () => {
    const log = chart(
      [
        {
          name: 'p99',
          points: [
            [0, 0],
            [1, 5],
            [2, 500],
          ],
        },
      ],
      { yLog: true },
    );
    expect(texts(log)).toEqual(expect.arrayContaining(['ms (log scale)', '1', '10', '100', '1,000']));
    expect(elements(log, 'path')[0]!['d']!.match(/[ML]/g)).toEqual(['M', 'L']);
  });

  it('escapes every text', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;');
    const out = lineChart({ title: 'a<b', xLabel: 'x&y', yLabel: '"y"', series: [] });
    expect(out).toContain('<title>a&lt;b</title>');
    expect(texts(out)).toEqual(expect.arrayContaining(['a&lt;b', 'x&amp;y', '&quot;y&quot;']));
  });
});

describe('stackedCharts', () => {
  it('stacks panels with aligned plots in one document', () => {
    const out = stackedCharts('Both', [
      {
        title: 'rate',
        xLabel: 's',
        yLabel: 'req/s',
        series: [
          {
            name: 'responses',
            points: [
              [0, 12000],
              [9, 11000],
            ],
          },
        ],
      },
      {
        title: 'latency',
        xLabel: 's',
        yLabel: 'ms',
        height: 200,
        series: [
          {
            name: 'p50',
            points: [
              [0, 1],
              [9, 2],
            ],
          },
        ],
      },
    ]);
    expect(out.match(/<svg /g)).toHaveLength(1);
    expect(out).toContain('height="520"');
    expect(out).toContain('<g transform="translate(0,320)">');
    // Both y axes start at the same x, although "12,000" is wider than "2".
    const yAxes = elements(out, 'line').filter(
      (l) => l['stroke'] === '#333333' && l['x1'] === l['x2'] && Number(l['y2']) - Number(l['y1']) > 50,
    );
    expect(yAxes).toHaveLength(2);
    expect(yAxes[0]!['x1']).toBe(yAxes[1]!['x1']);
  });
});
