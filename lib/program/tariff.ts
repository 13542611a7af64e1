// The program's tariff: the contract in force on a day, its tariff period, the contract year and
// the step-downs of ordinary contracts, and the price of energy at a rate. Pure. Billing prices
// every month with it (billing/src/core/price-energy.ts), alerts the income at risk. The rules are
// billing/README.md, "Income".
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
  roundExactPrice(exactPriceWh(wh, rate));
/** The price of Wh at a rate in 1/100,000 Rial: exact, so that prices are summed before their one rounding. */
export const exactPriceWh = (wh: number, rate: Pick<Rate, 'rialPerKwh' | 'percent'>): bigint =>
  BigInt(wh) * BigInt(rate.rialPerKwh) * BigInt(rate.percent);
/** An exact price (or a sum of them) in Rials: rounded once, halves up. */
export const roundExactPrice = (exact: bigint): bigint => divideRoundHalfUp(exact, 100_000n);

/** The contract in force on a date: the latest started by then (`contracts` in start order, ties by id). */
export function contractOn(contracts: readonly ContractTerms[], date: string): ContractTerms | null {
  let inForce: ContractTerms | null = null;
  for (const c of contracts) if (c.startDate <= date) inForce = c;
  return inForce;
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
