// Rials are bigint everywhere in the program; the one rounding rule is billing/README.md, "The rounding
// rule": an amount computed from a product is rounded once, to the nearest Rial, halves up.

/** n / d rounded to the nearest integer, halves up; n ≥ 0, d > 0. */
export function divideRoundHalfUp(n: bigint, d: bigint): bigint {
  if (n < 0n || d <= 0n) throw new RangeError(`divideRoundHalfUp(${n}, ${d}): expects n ≥ 0 and d > 0`);
  return (2n * n + d) / (2n * d);
}

export const minBigInt = (a: bigint, b: bigint) => (a < b ? a : b);
export const sumBigInt = (values: Iterable<bigint>) => {
  let s = 0n;
  for (const v of values) s += v;
  return s;
};
