// Stateless seeded randomness: a value depends only on (seed, key, index), so any instant can be
// evaluated in any order — a real-time run and a backfill of the same period agree exactly.

/** 32-bit integer hash (Murmur3 finaliser) of several integers. */
export function hashInts(...values: number[]): number {
  let h = 0x9e3779b9;
  for (const v of values) {
    h ^= Math.imul((v | 0) ^ ((v / 4294967296) | 0), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** Uniform in [0, 1). */
export const uniform = (...values: number[]): number => hashInts(...values) / 4294967296;

/** FNV-1a of a string, to key randomness by site or serial. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Smooth noise in [0, 1): uniform values at integer knots, cosine-interpolated between them. */
export function smoothNoise(seed: number, key: number, x: number): number {
  const i = Math.floor(x);
  const f = x - i;
  const w = (1 - Math.cos(Math.PI * f)) / 2;
  return uniform(seed, key, i) * (1 - w) + uniform(seed, key, i + 1) * w;
}
