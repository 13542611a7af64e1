// The report as a server-rendered Persian page (RTL, Vazirmatn embedded so the PDF needs nothing
// from outside), printed to PDF by Chromium (pdf.ts). Numbers are isolated left-to-right so they
// read and extract as written.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { monthNameFa } from '../../../lib/program/solar-hijri';
import { TEHRAN_TIME_ZONE } from '../../../lib/program/tehran-time';
import { faNumber, kwhFa, rialsFa } from '../../../lib/text/persian-numbers';
import { type Html, html, raw } from '../portal/html';
import type { ReportData } from './data';
import { type Cell, provinceNameFa, type ReportTable, reportTables } from './tables';

const require = createRequire(import.meta.url);
const font = (weight: string) =>
  readFileSync(require.resolve(`vazirmatn/fonts/webfonts/Vazirmatn-${weight}.woff2`)).toString('base64');
const FONTS =
  `@font-face{font-family:Vazirmatn;font-weight:400;src:url(data:font/woff2;base64,${font('Regular')}) ` +
  `format("woff2")}@font-face{font-family:Vazirmatn;font-weight:700;src:url(data:font/woff2;base64,${font('Bold')}) format("woff2")}`;

const STYLE = `${FONTS}
@page{size:A4;margin:14mm 12mm}
html{font-family:Vazirmatn,sans-serif;font-size:10pt;color:#0b0c0c;line-height:1.5}
body{margin:0}h1{font-size:18pt;margin:0 0 4mm}h2{font-size:13pt;margin:7mm 0 2mm;break-after:avoid}
table{border-collapse:collapse;inline-size:100%;break-inside:avoid;margin-block-end:3mm}
th,td{border-block-end:0.3mm solid #b1b4b6;padding:1.2mm 1.5mm;text-align:start;vertical-align:top}
th{background:#f3f2f1}td.n{text-align:end;white-space:nowrap}.lead{font-size:12pt}
figure{margin:0 0 4mm;break-inside:avoid}svg{inline-size:100%;block-size:auto}figcaption{color:#484949}`;

const ltr = (text: string) => html`<bdi dir="ltr">${text}</bdi>`;
function cellHtml(cell: Cell): Html {
  switch (cell.kind) {
    case 'text':
      return html`${cell.value}`;
    case 'rials':
      return ltr(rialsFa(cell.value));
    case 'kwh':
      return ltr(kwhFa(cell.wh));
    case 'number':
      return ltr(
        new Intl.NumberFormat('fa-IR', { maximumFractionDigits: cell.digits ?? 0, minimumFractionDigits: 0 }).format(
          cell.value,
        ),
      );
  }
}

function tableHtml(t: ReportTable): Html {
  // Tables of figures by item show the label, not the machine key (that is for CSV/XLSX).
  const keyed = t.columns[0]?.key === 'item';
  const columns = keyed ? t.columns.slice(1) : t.columns;
  return html`<h2 id="${t.id}">${t.titleFa}</h2>${
    t.rows.length === 0
      ? html`<p>موردی نیست.</p>`
      : html`<table aria-labelledby="${t.id}"><thead><tr>${columns.map((c) => html`<th scope="col">${c.labelFa}</th>`)}</tr></thead><tbody>${t.rows.map(
          (row) =>
            html`<tr>${(keyed ? row.slice(1) : row).map((cell) =>
              cell.kind === 'text' ? html`<td>${cellHtml(cell)}</td>` : html`<td class="n">${cellHtml(cell)}</td>`,
            )}</tr>`,
        )}</tbody></table>`
  }`;
}

/** Energy by province as bars, largest first: a picture of the province table's energy column. */
function energyChart(d: ReportData): Html {
  const rows = [...d.figures.provinces].sort((a, b) => b.energyWh - a.energyWh).slice(0, 12);
  if (rows.length === 0) return html``;
  const max = Math.max(1, ...rows.map((r) => r.energyWh));
  const W = 600;
  const row = 22;
  const label = 130;
  return html`<figure><svg viewBox="0 0 ${W} ${rows.length * row + 4}" role="img" aria-label="تولید برق هر استان">${rows.map(
    (r, i) => {
      const w = ((W - label - 120) * r.energyWh) / max;
      const y = i * row + 2;
      return html`<text x="${W}" y="${y + 15}" font-size="12" text-anchor="start" direction="rtl">
        ${provinceNameFa(r.province)}</text><rect x="${(W - label - w).toFixed(1)}" y="${y + 3}"
        width="${w.toFixed(1)}" height="${row - 8}" fill="#1d70b8"/><text x="${(W - label - w - 6).toFixed(1)}"
        y="${y + 15}" font-size="11" text-anchor="end" direction="ltr">${kwhFa(r.energyWh)}</text>`;
    },
  )}</svg><figcaption>تولید برق هر استان (کیلووات‌ساعت)</figcaption></figure>`;
}

export function reportPage(d: ReportData): string {
  const tables = reportTables(d);
  const name = monthNameFa(d.month);
  const f = d.figures;
  return `<!doctype html>${html`<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>گزارش ماهانه برنامه درآمد
    خورشیدی — ${name}</title><style>${raw(STYLE)}</style></head><body><h1>گزارش ماهانه برنامه درآمد خورشیدی — ${name}
    </h1><p class="lead">${ltr(kwhFa(f.energyWh))} کیلووات‌ساعت برق از ${ltr(faNumber(f.installations))}
    نیروگاه؛ ${ltr(rialsFa(f.payableRials))} ریال قابل پرداخت به ${ltr(faNumber(f.beneficiaries))} مددجو${
      f.payout?.status === 'PAID' ? '، واریز شد.' : '.'
    }</p>${energyChart(d)}${tables.map(tableHtml)}<p>ارقام ماه و پیشرفت برنامه از دفتر حساب بسته‌شده همین ماه است و هر
    بار که گزارش تهیه شود همین است. وضعیت نقدی و هشدارهای باز مربوط به زمان تهیه گزارش است: ${ltr(
      d.generatedAt.toLocaleString('fa-IR', { timeZone: TEHRAN_TIME_ZONE, dateStyle: 'long', timeStyle: 'short' }),
    )} (به وقت تهران).</p></body></html>`}`;
}
