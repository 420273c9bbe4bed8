/**
 * A seeded pseudo-random generator (mulberry32): the lab's workload and fault timings come from it, so
 * the same seed gives the same orders, at the same offsets, and the same fault schedule. Hand-written on
 * purpose — four lines, and reproducibility is the point.
 */
export type Random = () => number;

export function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max]. */
export const between = (random: Random, min: number, max: number): number =>
  min + Math.floor(random() * (max - min + 1));

/** One of the items. */
export const pick = <T>(random: Random, items: readonly T[]): T => {
  if (items.length === 0) throw new RangeError('pick from nothing');
  return items[Math.floor(random() * items.length)] as T;
};

/** A sub-seed for one concern (workload, faults…), so adding draws to one never shifts the other. */
export const derive = (seed: number, label: string): number => {
  let hash = seed >>> 0;
  for (const char of label) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193) >>> 0;
  return hash;
};
