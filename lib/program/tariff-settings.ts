// The tariff's settings, read by every component that prices energy: billing (each month) and
// alerts (the income at risk). Each component reads its own settings and includes these, so a
// wrong value is refused with the same message whichever reads it.
import { type Env, EnvReader } from '../config';
import { parseStepDowns, type StepDown } from './tariff';

export interface TariffSettings {
  /** Ordinary contracts' step-downs by contract year (`BILLING_STEP_DOWNS`, year:percent). */
  stepDowns: StepDown[];
}

export function readTariffSettings(env: Env = process.env): TariffSettings {
  const r = new EnvReader(env);
  return r.done({ stepDowns: r.parsed('BILLING_STEP_DOWNS', '8:90,12:80,16:70', parseStepDowns) });
}
