// Prices energy with the tariff of the contract in force each day. Pure.
// A contract is in force from its start date until the next one of its installation starts; a
// tariff period covers Tehran civil dates [from, until); ordinary contracts step down at the start
// of given contract years (year n starts on the (n − 1)th anniversary of the contract's start).
import { allocateLargestRemainder } from './allocate-largest-remainder';
import { divideRoundHalfUp } from './money';

export interface TariffPeriod {
  from: string;
  until: string | null;
  rialPerKwh: number;
}
export interface ContractTerms {
  reference: string;
  kind: 'ORDINARY' | 'SUPPORT';
  startDate: string;
  periods: TariffPeriod[];
}
/** From contract year `fromYear` on, ordinary contracts are paid `percent` % of the tariff. */
export interface StepDown {
  fromYear: number;
  percent: number;
}

export interface Rate {
  rialPerKwh: number;
  percent: number;
  contractYear: number;
}
export interface PricedSegment extends Rate {
  contract: string;
  fromDate: string;
  toDate: string;
  wh: number;
  rials: bigint;
}
export interface PricedEnergy {
  segments: PricedSegment[];
  unpricedWh: number;
  grossRials: bigint;
  /** The gross before its one rounding, in 1/100,000 Rial: the weight of this energy when a billed figure is split. */
  exactGross: bigint;
}

/** Contract year of a date: 1 in the first twelve months from the start date. */
export function contractYear(startDate: string, date: string): number {
  const years = Number(date.slice(0, 4)) - Number(startDate.slice(0, 4));
  return (date.slice(5) >= startDate.slice(5) ? years : years - 1) + 1;
}

export function rateOn(contract: ContractTerms, date: string, stepDowns: readonly StepDown[]): Rate | null {
  if (date < contract.startDate) return null;
  const period = contract.periods.find((p) => p.from <= date && (p.until === null || date < p.until));
  if (!period) return null;
  const year = contractYear(contract.startDate, date);
  // The latest step-down reached by this year (billing prices every installation's every day: no sorting here).
  let step: StepDown | undefined;
  if (contract.kind === 'ORDINARY')
    for (const s of stepDowns) if (year >= s.fromYear && (!step || s.fromYear > step.fromYear)) step = s;
  return { rialPerKwh: period.rialPerKwh, percent: step?.percent ?? 100, contractYear: year };
}

/** Rials for Wh at a rate: Wh × Rial/kWh × percent / (1000 × 100), rounded once, halves up. */
export const priceWh = (wh: number, rate: Pick<Rate, 'rialPerKwh' | 'percent'>): bigint =>
  divideRoundHalfUp(exactPrice(wh, rate), PRICE_DIVISOR);
/** Rials × 100,000: exact. */
const exactPrice = (wh: number, rate: Pick<Rate, 'rialPerKwh' | 'percent'>) =>
  BigInt(wh) * BigInt(rate.rialPerKwh) * BigInt(rate.percent);
const PRICE_DIVISOR = 100_000n;

/** The contract in force on a date: the latest started by then (`contracts` in start order, ties by id). */
export function contractOn(contracts: readonly ContractTerms[], date: string): ContractTerms | null {
  let inForce: ContractTerms | null = null;
  for (const c of contracts) if (c.startDate <= date) inForce = c;
  return inForce;
}

type DayRate = Rate & { contract: string };
// Called for every installation's every day: objects are built field by field (spreads cost more than the rest).
const rateOfDay = (
  contracts: readonly ContractTerms[],
  date: string,
  stepDowns: readonly StepDown[],
): DayRate | null => {
  const contract = contractOn(contracts, date);
  const rate = contract ? rateOn(contract, date, stepDowns) : null;
  if (!contract || !rate) return null;
  return {
    rialPerKwh: rate.rialPerKwh,
    percent: rate.percent,
    contractYear: rate.contractYear,
    contract: contract.reference,
  };
};
const samePrice = (a: DayRate | null, b: DayRate | null) =>
  a === null || b === null
    ? a === b
    : a.contract === b.contract && a.rialPerKwh === b.rialPerKwh && a.percent === b.percent;

/**
 * One segment per run of days with the same contract and rate; energy on days without a tariff
 * stays unpriced. The gross is the exact sum of every segment's price, rounded once (halves up);
 * the segments show it split by largest remainder, so they add up to it.
 */
export function priceEnergy(
  days: readonly { date: string; wh: number }[],
  contracts: readonly ContractTerms[],
  stepDowns: readonly StepDown[],
): PricedEnergy {
  const segments: PricedSegment[] = [];
  let unpricedWh = 0;
  let open: PricedSegment | null = null;
  for (const { date, wh } of days) {
    const rate = rateOfDay(contracts, date, stepDowns);
    if (!rate) {
      unpricedWh += wh;
      open = null;
      continue;
    }
    if (open && samePrice(open, rate) && open.contractYear === rate.contractYear) {
      open.toDate = date;
      open.wh += wh;
    } else {
      open = {
        rialPerKwh: rate.rialPerKwh,
        percent: rate.percent,
        contractYear: rate.contractYear,
        contract: rate.contract,
        fromDate: date,
        toDate: date,
        wh,
        rials: 0n,
      };
      segments.push(open);
    }
  }
  const exact = segments.map((s) => exactPrice(s.wh, s));
  const exactGross = exact.reduce((a, b) => a + b, 0n);
  const grossRials = divideRoundHalfUp(exactGross, PRICE_DIVISOR);
  if (segments.length === 1) segments[0]!.rials = grossRials;
  else if (grossRials > 0n)
    allocateLargestRemainder(
      grossRials,
      exact.map((weight, i) => ({ id: String(i), weight })),
    ).forEach((a, i) => {
      segments[i]!.rials = a.amount;
    });
  return { segments, unpricedWh, grossRials, exactGross };
}

/** The dates (after the first) on which the price differs from the day before: where energy must be split exactly. */
export function rateChangeDates(
  dates: readonly string[],
  contracts: readonly ContractTerms[],
  stepDowns: readonly StepDown[],
): string[] {
  const rates = dates.map((date) => rateOfDay(contracts, date, stepDowns));
  return dates.filter((_date, i) => i > 0 && !samePrice(rates[i]!, rates[i - 1]!));
}

/** Parses `8:90,12:80,16:70` (contract year : percent of the tariff). */
export function parseStepDowns(text: string): StepDown[] {
  if (text.trim() === '') return [];
  return text.split(',').map((item) => {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(item);
    if (!m || Number(m[1]) < 2 || Number(m[2]) > 100)
      throw new RangeError(`'${item}' is not a step-down written YEAR:PERCENT (year ≥ 2, percent ≤ 100), e.g. 8:90`);
    return { fromYear: Number(m[1]), percent: Number(m[2]) };
  });
}
