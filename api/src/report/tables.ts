// The report's tables, one definition for the PDF page, the CSV and the XLSX: each cell keeps its
// kind (Rials, kWh, a count, text), so every format shows the same number its own way.
import { loadProvinces } from '../../../lib/provinces';
import { PROGRAM_TARGET } from '../progress';
import type { ReportData } from './data';

export type Cell =
  | { kind: 'text'; value: string }
  | { kind: 'rials'; value: bigint }
  | { kind: 'kwh'; wh: number }
  | { kind: 'number'; value: number; digits?: number };
export interface ReportTable {
  id: string;
  titleFa: string;
  columns: { key: string; labelFa: string }[];
  rows: Cell[][];
}

const text = (value: string): Cell => ({ kind: 'text', value });
const rials = (value: bigint): Cell => ({ kind: 'rials', value });
const kwh = (wh: number): Cell => ({ kind: 'kwh', wh });
const num = (value: number, digits = 0): Cell => ({ kind: 'number', value, digits });
const provinceFa = new Map(loadProvinces().map((p) => [p.code, p.nameFa]));
export const provinceNameFa = (code: string) => provinceFa.get(code) ?? code;

const RULE_FA: Record<string, string> = {
  OFFLINE: 'قطع ارتباط',
  AREA_OUTAGE: 'قطعی منطقه',
  FAULT: 'خطای اینورتر',
  UNDERPERFORMING: 'تولید کم',
  SOILING: 'گرد و غبار',
};

export function reportTables(d: ReportData): ReportTable[] {
  const f = d.figures;
  const c = d.cash;
  // Progress that month, from its ledger: the installations it billed, the people its statements paid.
  const mw = f.provinces.reduce((sum, p) => sum + p.dcKwp, 0) / 1000;
  const percent = (value: number, target: number) => num((100 * value) / target, 1);
  const figure = (key: string, labelFa: string, cell: Cell) => [text(key), text(labelFa), cell];
  return [
    {
      id: 'summary',
      titleFa: 'درآمد ماه',
      columns: [
        { key: 'item', labelFa: 'شناسه' },
        { key: 'label', labelFa: 'عنوان' },
        { key: 'value', labelFa: 'مقدار' },
      ],
      rows: [
        figure('energy_kwh', 'برق تولیدشده (کیلووات‌ساعت)', kwh(f.energyWh)),
        figure('gross_rials', 'فروش برق (ریال)', rials(f.grossRials)),
        figure('late_data_rials', 'اصلاح داده‌های دیررس (ریال)', rials(f.adjustmentRials)),
        figure('loan_rials', 'کسر: قسط وام نیروگاه‌ها (ریال)', rials(f.loanRials)),
        figure('fee_rials', 'کسر: هزینه نگهداری (ریال)', rials(f.feeRials)),
        figure('net_rials', 'خالص برای سهم‌داران (ریال)', rials(f.netRials)),
        figure('pool_rials', 'سهم بدون صاحب: صندوق برنامه (ریال)', rials(f.poolRials)),
        figure('payable_rials', 'قابل پرداخت به مددجویان (ریال)', rials(f.payableRials)),
        figure(
          'paid_rials',
          'واریزشده در فهرست بانکی (ریال)',
          rials(f.payout?.status === 'PAID' ? f.payout.totalRials : 0n),
        ),
        figure('payout_rows', 'تعداد واریزها', num(f.payout?.rows ?? 0)),
        figure('beneficiaries', 'مددجویان دارای صورت‌حساب', num(f.beneficiaries)),
        figure('installations', 'نیروگاه‌ها', num(f.installations)),
      ],
    },
    {
      id: 'progress',
      titleFa: 'پیشرفت برنامه در این ماه (از دفتر حساب ماه)',
      columns: [
        { key: 'measure', labelFa: 'شاخص' },
        { key: 'target', labelFa: 'هدف' },
        { key: 'in_month', labelFa: 'در این ماه' },
        { key: 'percent', labelFa: 'درصد' },
      ],
      rows: [
        [text('مگاوات نیروگاه‌های صورت‌حساب‌شده'), num(PROGRAM_TARGET.mw), num(mw, 3), percent(mw, PROGRAM_TARGET.mw)],
        [
          text('مددجویان دارای سهم در صورت‌حساب‌ها'),
          num(PROGRAM_TARGET.people),
          num(f.people.total),
          percent(f.people.total, PROGRAM_TARGET.people),
        ],
      ],
    },
    {
      id: 'provinces',
      titleFa: 'استان‌ها',
      columns: [
        { key: 'province', labelFa: 'استان' },
        { key: 'installations', labelFa: 'نیروگاه' },
        { key: 'mw_commissioned', labelFa: 'مگاوات' },
        { key: 'people', labelFa: 'مددجو' },
        { key: 'energy_kwh', labelFa: 'تولید (کیلووات‌ساعت)' },
        { key: 'specific_yield', labelFa: 'بازده ویژه (kWh/kWp)' },
        { key: 'gross_rials', labelFa: 'فروش (ریال)' },
        { key: 'deductions_rials', labelFa: 'کسورات (ریال)' },
        { key: 'net_rials', labelFa: 'خالص (ریال)' },
      ],
      rows: f.provinces.map((p) => [
        text(provinceNameFa(p.province)),
        num(p.installations),
        num(p.dcKwp / 1000, 3),
        num(f.people.byProvince[p.province] ?? 0),
        kwh(p.energyWh),
        num(p.dcKwp > 0 ? p.energyWh / 1000 / p.dcKwp : 0, 1),
        rials(p.grossRials),
        rials(p.deductionsRials),
        rials(p.netRials),
      ]),
    },
    {
      id: 'cash',
      titleFa: 'تسویه شرکت توزیع و وضعیت نقدی (در روز تهیه گزارش)',
      columns: [
        { key: 'item', labelFa: 'شناسه' },
        { key: 'label', labelFa: 'عنوان' },
        { key: 'rials', labelFa: 'ریال' },
      ],
      rows: [
        figure('promised', 'تعهد به مددجویان (ماه‌های بسته)', rials(c.promisedRials)),
        figure('paid_to_beneficiaries', 'پرداخت‌شده به مددجویان', rials(c.paidToBeneficiariesRials)),
        figure('owed_to_beneficiaries', 'بدهی به مددجویان', rials(c.owedToBeneficiariesRials)),
        figure('settled', 'تسویه‌شده توسط شرکت توزیع', rials(c.settledRials)),
        figure('received', 'دریافت‌شده از شرکت توزیع', rials(c.receivedRials)),
        figure('receivable', 'طلب از شرکت توزیع', rials(c.receivableRials)),
        figure('unsettled', 'هنوز تسویه‌نشده', rials(c.unsettledRials)),
        figure('cash', 'موجودی نقد برنامه', rials(c.cashRials)),
        figure('coverage', 'پوشش تعهدات', rials(c.coverageRials)),
      ],
    },
    {
      id: 'alerts',
      titleFa: 'دسترس‌پذیری و هشدارها',
      columns: [
        { key: 'item', labelFa: 'شناسه' },
        { key: 'label', labelFa: 'عنوان' },
        { key: 'value', labelFa: 'تعداد' },
      ],
      rows: [
        figure('complete_data', 'نیروگاه‌های با داده کامل', num(f.installations - f.incomplete)),
        figure('incomplete_data', 'نیروگاه‌های با داده ناقص', num(f.incomplete)),
        figure('alerts_opened', 'هشدارهای بازشده در این ماه', num(d.alerts.opened)),
        figure('alerts_resolved', 'هشدارهای برطرف‌شده در این ماه', num(d.alerts.resolved)),
        figure('alerts_open', 'هشدارهای باز در زمان تهیه گزارش', num(d.alerts.open)),
      ],
    },
    {
      id: 'income_at_risk',
      titleFa: 'بیشترین درآمد در خطر (هشدارهای باز در زمان تهیه گزارش)',
      columns: [
        { key: 'installation', labelFa: 'نیروگاه' },
        { key: 'province', labelFa: 'استان' },
        { key: 'rule', labelFa: 'هشدار' },
        { key: 'lost_kwh_per_day', labelFa: 'کیلووات‌ساعت در روز' },
        { key: 'lost_rials_per_day', labelFa: 'ریال در روز' },
      ],
      rows: d.alerts.risk.map((r) => [
        text(r.installation),
        text(provinceNameFa(r.province)),
        text(`${RULE_FA[r.rule] ?? r.rule} (${r.cause})`),
        num(r.lostKwhPerDay, 1),
        rials(r.lostRialsPerDay),
      ]),
    },
  ];
}

/** A cell as plain data: Rials and counts as integers, kWh with three decimals (CSV, XLSX). */
export function plainValue(cell: Cell): string | number {
  switch (cell.kind) {
    case 'text':
      return cell.value;
    case 'rials':
      return Number(cell.value); // whole Rials: exact below 2^53 (9 × 10^15), far above a month of the program
    case 'kwh':
      return cell.wh / 1000;
    case 'number':
      return Number(cell.value.toFixed(cell.digits ?? 0));
  }
}
