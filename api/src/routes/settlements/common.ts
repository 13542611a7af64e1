// What the settlement routes share: the settings they are given, Rials as decimal strings (exact,
// whatever the client's number type), the reconciliation statuses, and a correction as the
// correction route returns it and the cash position lists it.
import { Type } from '@sinclair/typebox';
import type { AlertsConfig } from '../../../../alerts';
import type { BillingConfig } from '../../../../billing';
import type { InfluxClient } from '../../../../lib/influx/client';

export interface SettlementRoutesOptions {
  influx: InfluxClient;
  billing: Pick<BillingConfig, 'rules' | 'lookaroundDays' | 'settlements'>;
  alerts: AlertsConfig;
}

export const Rials = Type.String({ pattern: '^-?\\d+$', description: 'whole Rials' });
export const STATUSES = [
  'WITHIN_TOLERANCE',
  'METER_BELOW_TELEMETRY',
  'METER_ABOVE_TELEMETRY',
  'AMOUNT_BELOW_BILLED',
  'AMOUNT_ABOVE_BILLED',
  'TELEMETRY_MISSING',
] as const;
export const Correction = Type.Object({
  id: Type.Integer(),
  settlementId: Type.Integer(),
  installationCode: Type.String(),
  periodFrom: Type.String(),
  periodUntil: Type.String(),
  reference: Type.String(),
  correctedOn: Type.String(),
  reversedRials: Rials,
  newRials: Rials,
  reason: Type.String(),
});
