// Billing's public entry: what other components (the API) and their tests may use. Everything
// under src/ is billing's own; list a name here before another component imports it.
export { monthAttention } from './src/attention';
export { type BillingConfig, readBillingConfig } from './src/config';
export { SMS_MAX_CHARS, smsText } from './src/core/sms-text';
export { monthSmsCsv } from './src/sms-export';
export { type MonthReportFigures, type MonthReportProvince, monthReportFigures } from './src/month-report';
export { cancelQueuedSms } from './src/sms/outbox';
export {
  type BilledMonth,
  billedMonthOf,
  billedMonths,
  type InstallationBill,
  type InstallationBillFigures,
  type InstallationBillFilter,
  installationBill,
  installationBills,
  type LedgerProgress,
  ledgerProgress,
  monthByProvince,
  monthsClosedWithin,
  type ProvinceTotals,
} from './src/ledger-reads';
export { latestReplacements, recordReplacement, replacementsSince, reviewCounter } from './src/counter-reviews';
export type { Replacement } from './src/core/counter-energy';
export { readCounterEnergy } from './src/installation-energy';
export { monthElapsed } from './src/core/deductions';
export { BillingError } from './src/errors';
export { LOAN_REPAID_SQL, type LoanOnStatement, loanBalances, loansOnStatement } from './src/loan-balances';
export { markPaid, payoutBatch, payoutFile } from './src/payouts';
export {
  type BillFigures,
  type StatementHead,
  type StatementLine,
  type StoredAdjustment,
  type StoredBillDetail,
  type StoredSegment,
  statementOf,
  statementsOf,
} from './src/statement-reads';
export { type BillingDeps, monthStatus, type RunSummary, runMonth } from './src/run-month';
export { DEFAULT_SETTLEMENT_POLICY } from './src/core/reconcile-settlement';
export { type CashPosition, cashPosition } from './src/settlements/cash-position';
export { correctSettlement } from './src/settlements/correct-settlement';
export { importSettlements } from './src/settlements/import-settlements';
export { listSettlements, type SettlementListItem } from './src/settlements/list-settlements';
export { recordSettlementPolicy } from './src/settlements/settlement-policy';
export {
  type ReconcileSummary,
  reconcileSettlements,
  type SettlementDeps,
} from './src/settlements/reconcile-settlements';
