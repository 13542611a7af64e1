// The report's files: the PDF (the page printed), and the same tables as CSV (one table per file,
// as spreadsheets import them) and as XLSX (one sheet per table).
import { csvDocument } from '../../../lib/csv';
import type { ReportData } from './data';
import { reportPage } from './page';
import { printPdf } from './pdf';
import { plainValue, reportTables } from './tables';
import { xlsxWorkbook } from './xlsx';

export const REPORT_TABLES = ['summary', 'progress', 'provinces', 'cash', 'alerts', 'income_at_risk'] as const;

export const reportPdf = (d: ReportData, chromiumPath: string) => printPdf(reportPage(d), chromiumPath);

export function reportCsv(d: ReportData, table: (typeof REPORT_TABLES)[number]): string {
  const t = reportTables(d).find((x) => x.id === table)!;
  return csvDocument(
    t.columns.map((c) => c.key),
    t.rows.map((row) => row.map((cell) => (cell.kind === 'rials' ? cell.value : plainValue(cell)))),
  );
}

export function reportXlsx(d: ReportData): Buffer {
  return xlsxWorkbook(
    reportTables(d).map((t) => ({
      name: t.id,
      rows: [t.columns.map((c) => c.labelFa), ...t.rows.map((row) => row.map(plainValue))],
    })),
  );
}
