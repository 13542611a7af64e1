// Income at risk: lost energy priced with the installation's tariff (the program's exact pricing, as billing's).
import { priceWh, type Rate } from '../../../lib/program/tariff';

type RateLike = Pick<Rate, 'rialPerKwh' | 'percent'> | null;

/** Rials per day for kWh per day at a rate: exact integer Rials, 0 without a tariff. */
export const lostRialsPerDay = (kwhPerDay: number, rate: RateLike): bigint =>
  rate && kwhPerDay > 0 ? priceWh(Math.round(kwhPerDay * 1000), rate) : 0n;

/** The Rial/kWh actually paid (after a step-down), for display. */
export const paidRialPerKwh = (rate: RateLike): number | null =>
  rate ? Math.round((rate.rialPerKwh * rate.percent) / 100) : null;

/** kWh with three decimals, as stored. */
export const roundKwh = (kwh: number) => Math.round(Math.max(0, kwh) * 1000) / 1000;

export const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
