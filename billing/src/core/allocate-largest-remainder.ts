// Splits a whole number of Rials among weighted parts by the largest-remainder (Hamilton) method:
// the parts always sum to the total; ties as billing/README.md, "Allocation", says. Pure, bigint.
export interface WeightedPart {
  id: string;
  weight: bigint;
}
export interface Allocation {
  id: string;
  amount: bigint;
}

export function allocateLargestRemainder(total: bigint, parts: readonly WeightedPart[]): Allocation[] {
  if (total < 0n) throw new RangeError(`cannot allocate a negative total (${total})`);
  const ids = new Set<string>();
  for (const part of parts) {
    if (part.weight < 0n) throw new RangeError(`part ${part.id} has a negative weight`);
    if (ids.has(part.id)) throw new RangeError(`part ${part.id} appears twice`);
    ids.add(part.id);
  }
  const sum = parts.reduce((s, p) => s + p.weight, 0n);
  if (sum === 0n) {
    if (total === 0n) return parts.map((p) => ({ id: p.id, amount: 0n }));
    throw new RangeError(`cannot allocate ${total} Rials among parts whose weights sum to zero`);
  }
  const shares = parts.map((p) => ({
    id: p.id,
    weight: p.weight,
    amount: (total * p.weight) / sum,
    remainder: (total * p.weight) % sum,
  }));
  let leftover = total - shares.reduce((s, p) => s + p.amount, 0n);
  const order = [...shares].sort((a, b) =>
    a.remainder !== b.remainder
      ? a.remainder > b.remainder
        ? -1
        : 1
      : a.weight !== b.weight
        ? a.weight > b.weight
          ? -1
          : 1
        : compareIds(a.id, b.id),
  );
  for (const share of order) {
    if (leftover === 0n) break;
    share.amount += 1n;
    leftover -= 1n;
  }
  return shares.map((s) => ({ id: s.id, amount: s.amount }));
}

const NUMERIC = /^\d{1,30}$/;
/** Numeric ids by number, before any other id; other ids as text. */
export function compareIds(a: string, b: string): number {
  const an = NUMERIC.test(a);
  const bn = NUMERIC.test(b);
  if (an && bn) return BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0;
  if (an !== bn) return an ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
