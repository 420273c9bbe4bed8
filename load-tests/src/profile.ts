/**
 * A V8 CPU profile (`node --cpu-prof`), read: the functions that took the most time themselves, and a
 * flame graph as SVG (stacks from the root up, widths proportional to samples). Written here because the
 * format is small and the reports must be files in the repository, not a viewer.
 */
export interface CpuProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly CpuProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
  readonly startTime: number;
  readonly endTime: number;
}

const shortUrl = (url: string): string => {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:');
};

export const frameName = (node: CpuProfileNode): string => {
  const { functionName, url, lineNumber } = node.callFrame;
  const fn = functionName || '(anonymous)';
  return url ? `${fn} ${shortUrl(url)}:${lineNumber + 1}` : fn;
};

/** Self samples per function and per package (node_modules/<pkg>, node: internals, the app), biggest first. */
export function selfTime(profile: CpuProfile): {
  readonly total: number;
  readonly functions: readonly { name: string; samples: number }[];
  readonly packages: readonly { name: string; samples: number }[];
} {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const functions = new Map<string, number>();
  const packages = new Map<string, number>();
  for (const id of profile.samples) {
    const node = byId.get(id);
    if (!node) continue;
    const name = frameName(node);
    functions.set(name, (functions.get(name) ?? 0) + 1);
    const pkg = packageOf(node.callFrame.url, node.callFrame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + 1);
  }
  const sorted = (m: Map<string, number>) =>
    [...m.entries()].map(([name, samples]) => ({ name, samples })).sort((a, b) => b.samples - a.samples);
  return { total: profile.samples.length, functions: sorted(functions), packages: sorted(packages) };
}

export function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node (internals)';
  return 'saga-lab (the project)';
}

interface Frame {
  readonly name: string;
  samples: number;
  readonly children: Map<string, Frame>;
}

/** Stacks merged by function name from the root: the flame graph's tree. */
export function mergeStacks(profile: CpuProfile): Frame {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const root: Frame = { name: 'all', samples: 0, children: new Map() };
  for (const id of profile.samples) {
    const stack: string[] = [];
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const node = byId.get(at);
      if (node && node.callFrame.functionName !== '(root)') stack.push(frameName(node));
    }
    root.samples++;
    let frame = root;
    for (const name of stack.reverse()) {
      let next = frame.children.get(name);
      if (!next) frame.children.set(name, (next = { name, samples: 0, children: new Map() }));
      next.samples++;
      frame = next;
    }
  }
  return root;
}

const escape = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The flame graph: one row per stack depth, frames narrower than `minWidth` px left out. */
export function flameGraph(profile: CpuProfile, title: string, width = 1200, minWidth = 0.5): string {
  const root = mergeStacks(profile);
  const rowHeight = 16;
  const rects: string[] = [];
  let depthMax = 0;
  const hue = (name: string): number => {
    let h = 0;
    for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 360;
    return h;
  };
  const draw = (frame: Frame, x: number, depth: number, scale: number): void => {
    const w = frame.samples * scale;
    if (w < minWidth) return;
    depthMax = Math.max(depthMax, depth);
    const y = depth * rowHeight;
    const share = ((frame.samples / Math.max(1, root.samples)) * 100).toFixed(1);
    const label = w > 40 ? escape(frame.name.slice(0, Math.floor(w / 6.5))) : '';
    rects.push(
      `<g><title>${escape(frame.name)} — ${share} % (${frame.samples} samples)</title>` +
        `<rect x="${x.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowHeight - 1}" fill="hsl(${(hue(frame.name) % 60) + 10},80%,${60 + (depth % 3) * 5}%)"/>` +
        (label ? `<text x="${(x + 3).toFixed(1)}" y="${y + 12}">${label}</text>` : '') +
        '</g>',
    );
    let cx = x;
    for (const child of [...frame.children.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      draw(child, cx, depth + 1, scale);
      cx += child.samples * scale;
    }
  };
  draw(root, 0, 0, width / Math.max(1, root.samples));
  const height = (depthMax + 1) * rowHeight + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">`,
    `<text x="0" y="${height - 8}" font-size="13">${escape(title)} — ${root.samples} samples, hover a frame for its share</text>`,
    ...rects,
    '</svg>',
    '',
  ].join('\n');
}
