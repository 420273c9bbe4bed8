/**
 * A reproducible stand-in for Math.random (uniform in [0, 1)), so a fault run can be replayed from its seed.
 * A 32-bit xorshift: plenty for choosing faults, not for anything secret.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 0x9e37_79b9; // xorshift is stuck at zero
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}
