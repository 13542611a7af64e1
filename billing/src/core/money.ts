// Rials are bigint everywhere in billing. The one rounding rule: an amount computed from a product
// (energy × tariff × step-down, income × fee rate) is kept exact until it becomes a line and is then
// rounded once to the nearest Rial, halves up. Everything after that is whole-Rial arithmetic.

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
