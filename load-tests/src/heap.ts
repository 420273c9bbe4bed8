/**
 * A V8 heap snapshot (`node --heapsnapshot-signal=SIGUSR2`, then `kill -USR2 <pid>`), summarised: the
 * bytes held by each kind of object (constructor or type), so two snapshots — before and after a load —
 * say what grew. Used to explain the gateway's resident memory after a 10k/s run (docs/measurements.md):
 *
 *   node --import tsx load-tests/src/heap.ts before.heapsnapshot after.heapsnapshot
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

/** Self size by object kind ("Object", "(closure)", "(string)" …), in bytes. */
export function sizesByKind(snapshot: Snapshot): Map<string, { bytes: number; count: number }> {
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const type = fields.indexOf('type');
  const name = fields.indexOf('name');
  const size = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[0];
  const kinds = new Map<string, { bytes: number; count: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const kindType = types[snapshot.nodes[i + type] as number] ?? '?';
    const kind =
      kindType === 'object' || kindType === 'native'
        ? (snapshot.strings[snapshot.nodes[i + name] as number] ?? '?')
        : `(${kindType})`;
    const entry = kinds.get(kind) ?? { bytes: 0, count: 0 };
    entry.bytes += snapshot.nodes[i + size] as number;
    entry.count++;
    kinds.set(kind, entry);
  }
  return kinds;
}

/** The kinds that grew most between two snapshots. */
export function growth(
  before: Map<string, { bytes: number; count: number }>,
  after: Map<string, { bytes: number; count: number }>,
  top = 15,
): { kind: string; bytes: number; count: number }[] {
  return [...after.entries()]
    .map(([kind, a]) => ({
      kind,
      bytes: a.bytes - (before.get(kind)?.bytes ?? 0),
      count: a.count - (before.get(kind)?.count ?? 0),
    }))
    .sort((x, y) => y.bytes - x.bytes)
    .slice(0, top);
}

if (require.main === module) {
  const [beforeFile, afterFile] = process.argv.slice(2);
  if (!beforeFile || !afterFile) throw new Error('usage: heap.ts before.heapsnapshot after.heapsnapshot');
  const read = (file: string) => sizesByKind(JSON.parse(readFileSync(file, 'utf8')) as Snapshot);
  const [a, b] = [read(beforeFile), read(afterFile)];
  const total = (m: Map<string, { bytes: number }>) => [...m.values()].reduce((s, v) => s + v.bytes, 0);
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  process.stdout.write(`live heap: ${mib(total(a))} MiB → ${mib(total(b))} MiB\n`);
  for (const g of growth(a, b))
    process.stdout.write(`${mib(g.bytes).padStart(8)} MiB  ${String(g.count).padStart(8)}  ${g.kind}\n`);
}
