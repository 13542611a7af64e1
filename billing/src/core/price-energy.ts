// Prices a stretch of days' energy with the tariff of the contract in force each day (the program's
// tariff, lib/program/tariff.ts): segments of one contract and price, their gross rounded once.
// Pure. The rules are billing/README.md, "Income".
import {
  type ContractTerms,
  contractOn,
  exactPriceWh,
  type Rate,
  rateOn,
  roundExactPrice,
  type StepDown,
} from '../../../lib/program/tariff';
import { sumBigInt } from '../../../lib/program/money';
import { allocateLargestRemainder } from './allocate-largest-remainder';

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
  // Every installation's every day is priced: a day's rate is looked up only where it can change.
  const changes = rateChanges(days, contracts, stepDowns, 'any year');
  let rate: DayRate | null = null;
  for (const { date, wh } of days) {
    if (changes.at(date)) rate = rateOfDay(contracts, date, stepDowns);
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
  const exact = segments.map((s) => exactPriceWh(s.wh, s));
  const exactGross = sumBigInt(exact);
  const grossRials = roundExactPrice(exactGross);
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

/** The dates (after the first) on which the price differs from the date before: where energy must be split exactly. */
export function rateChangeDates(
  dates: readonly string[],
  contracts: readonly ContractTerms[],
  stepDowns: readonly StepDown[],
): string[] {
  const changes = rateChanges(
    dates.map((date) => ({ date })),
    contracts,
    stepDowns,
    'step-down years',
  );
  const out: string[] = [];
  let before: DayRate | null = null;
  dates.forEach((date, i) => {
    if (!changes.at(date)) return;
    const rate = rateOfDay(contracts, date, stepDowns);
    if (i > 0 && !samePrice(before, rate)) out.push(date);
    before = rate;
  });
  return out;
}

/**
 * Walks dates in order and says on which one a rate may differ from the date before (the first
 * date, and one not after the date before, always): where a contract or a tariff period starts or
 * ends, or a contract year starts (`any year`: a rate names its contract year; `step-down years`:
 * only a price, which a year changes only for an ordinary contract with step-downs). Billing
 * prices every installation's every day: the boundaries are listed once, each date costs a
 * comparison.
 */
function rateChanges(
  days: readonly { date: string }[],
  contracts: readonly ContractTerms[],
  stepDowns: readonly StepDown[],
  years: 'any year' | 'step-down years',
): { at: (date: string) => boolean } {
  const boundaries: string[] = [];
  const firstYear = Number(days[0]?.date.slice(0, 4));
  const lastYear = Number(days[days.length - 1]?.date.slice(0, 4));
  for (const c of contracts) {
    boundaries.push(c.startDate);
    for (const p of c.periods) {
      boundaries.push(p.from);
      if (p.until !== null) boundaries.push(p.until);
    }
    // A contract year starts on the start date's month and day (contractYear); as text, 02-29
    // sorts where contractYear puts it in a year without one: just before 03-01.
    if (years === 'any year' || (c.kind === 'ORDINARY' && stepDowns.length > 0))
      for (let y = firstYear - 1; y <= lastYear; y++) boundaries.push(`${y}${c.startDate.slice(4)}`);
  }
  boundaries.sort();
  let next = 0;
  let previous: string | null = null;
  return {
    at: (date) => {
      const restart = previous === null || date <= previous;
      if (restart) next = 0;
      let passed = false;
      while (next < boundaries.length && boundaries[next]! <= date) {
        passed = true;
        next++;
      }
      previous = date;
      return restart || passed;
    },
  };
}
