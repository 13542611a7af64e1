// The portal's pages: plain data in, HTML out (pure; the routes gather the data). Persian, RTL,
// one main point first on every page, GOV.UK patterns for forms and errors. Numbers and codes in
// running text are isolated with <bdi>.
import { dayNameFa, monthNameFa } from '../../../lib/program/solar-hijri';
import type { StoredAdjustment, StoredSegment } from '../../../billing';
import { tehranMidnight } from '../../../lib/program/tehran-time';

type MonthId = string;
import { faInteger, faNumber, kwFa, kwhFa, rialsFa, roundTomanFa, tomanFa } from '../../../lib/text/persian-numbers';
import { bdi, type Html, html } from './html';

const SITE = 'درآمد خورشیدی';

export interface Chrome {
  title: string;
  css: string;
  csrf: string;
  /** Signed in: the name shown and whether they can switch between people. */
  account?: { name: string; canChoose: boolean };
  hasErrors?: boolean;
}

export function layout(chrome: Chrome, main: Html, options: { printable?: boolean } = {}): string {
  const account = chrome.account;
  return `<!doctype html>${html`<html lang="fa" dir="rtl"><head><meta charset="utf-8"><meta name="viewport"
    content="width=device-width, initial-scale=1"><title>${chrome.hasErrors ? 'خطا: ' : ''}${chrome.title} — ${SITE}
    </title><link rel="stylesheet" href="${chrome.css}"></head><body><a class="skip" href="#main">رفتن به متن اصلی</a>${
      options.printable
        ? ''
        : html`<header class="top"><div class="wrap"><a class="brand" href="/portal">${SITE}</a>${
            account &&
            html`<nav class="account" aria-label="حساب شما"><span>${account.name}</span>${
              account.canChoose && html`<a href="/portal/choose">دیدن درآمد فرد دیگر</a>`
            }<form method="post" action="/portal/sign-out">${csrfField(chrome.csrf)}<button class="link" type="submit">خروج</button></form></nav>`
          }</div></header>`
    }<main id="main" class="wrap" tabindex="-1">${main}</main>${
      options.printable
        ? ''
        : html`<footer><div class="wrap"><a href="/portal/help">راهنما و شماره تماس</a></div></footer>`
    }</body></html>`}`;
}

const csrfField = (token: string) => html`<input type="hidden" name="csrf" value="${token}">`;
const phoneLink = (phone: string) => html`<a href="tel:${phone}" dir="ltr">${faDigitsOf(phone)}</a>`;
const faDigitsOf = (text: string) => text.replace(/\d/g, (d) => faInteger(Number(d)));
const toman = (rials: bigint) => html`${bdi(tomanFa(rials))} تومان`;
const rials = (value: bigint) => html`${bdi(rialsFa(value))} ریال`;

// ---- sign in ----------------------------------------------------------------------------------

export interface FieldError {
  field: 'nationalCode' | 'pin' | 'person';
  message: string;
}
export interface SignInView {
  errors: FieldError[];
  nationalCode: string;
  /** "Keep me signed in on this phone" as ticked (kept when the form comes back with an error). */
  remember: boolean;
  rememberDays: number;
  helpPhone: string;
  csrf: string;
  notice?: string;
}

function errorSummary(errors: FieldError[]): Html | '' {
  if (errors.length === 0) return '';
  return html`<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1"><h2
    id="error-summary-title">مشکلی پیش آمد</h2><ul>${errors.map(
      (e) => html`<li><a href="#${e.field}">${e.message}</a></li>`,
    )}</ul></div>`;
}

function textField(
  name: 'nationalCode' | 'pin',
  label: string,
  hint: string,
  errors: FieldError[],
  attrs: { value?: string; type: 'text' | 'password'; autocomplete: string },
): Html {
  const error = errors.find((e) => e.field === name);
  const describedBy = `${name}-hint${error ? ` ${name}-error` : ''}`;
  return html`<div class="field${error ? ' error' : ''}"><label for="${name}">${label}</label><p class="hint" id="${name}-hint">${hint}</p>${
    error &&
    html`<p class="error-message" id="${name}-error"><span class="visually-hidden">خطا:</span> ${error.message}</p>`
  }<input id="${name}" name="${name}" type="${attrs.type}" inputmode="numeric" dir="ltr"
    autocomplete="${attrs.autocomplete}" spellcheck="false" value="${attrs.value ?? ''}" aria-describedby="${describedBy}"${
      error ? html` aria-invalid="true"` : ''
    }></div>`;
}

// Opt-in: a remembered session on a shared or borrowed phone would show the next person this income.
function rememberField(view: SignInView): Html {
  return html`<div class="field"><div class="radio"><input type="checkbox" id="remember" name="remember" value="yes" aria-describedby="remember-hint"${
    view.remember ? html` checked` : ''
  }><label for="remember">این گوشی فقط مال من است؛ مرا وارد نگه دار</label></div><p class="hint" id="remember-hint">اگر هر ${faInteger(
    view.rememberDays,
  )} روز دست‌کم یک بار سر بزنید، دیگر لازم نیست کد ملی و رمز را بزنید. روی گوشی دیگران یا گوشی مشترک این را نزنید.</p></div>`;
}

export function signInPage(view: SignInView): Html {
  return html`${errorSummary(view.errors)}<h1>ورود به ${SITE}</h1>${
    view.notice &&
    html`<div class="panel"
    role="status"><p>${view.notice}</p></div>`
  }<p>با کد ملی و رمزی که اداره بهزیستی به شما داده است وارد شوید. اگر
    نماینده یا سرپرست کسی هستید، کد ملی و رمز خودتان را بزنید.</p><form method="post" action="/portal/sign-in" novalidate>${csrfField(view.csrf)}${textField(
      'nationalCode',
      'کد ملی',
      'ده رقم روی کارت ملی. با عدد فارسی یا انگلیسی.',
      view.errors,
      { type: 'text', autocomplete: 'username', value: view.nationalCode },
    )}${textField('pin', 'رمز', 'چهار تا هشت رقم.', view.errors, { type: 'password', autocomplete: 'current-password' })}${rememberField(view)}<button
    class="button" type="submit">ورود</button></form><h2>رمز ندارید یا فراموش کرده‌اید؟</h2><p>با اداره بهزیستی تماس
    بگیرید: ${phoneLink(view.helpPhone)}. <a href="/portal/help">راهنمای کامل</a></p>`;
}

// ---- choosing a person (guardians) ------------------------------------------------------------

export const RELATION_FA: Record<string, string> = {
  PARENT: 'پدر یا مادر',
  CHILD: 'فرزند',
  SPOUSE: 'همسر',
  SIBLING: 'خواهر یا برادر',
  LEGAL_GUARDIAN: 'قیم',
  CARER: 'مراقب',
  OTHER: 'نماینده',
};

export interface Person {
  id: number;
  name: string;
  /** The signed-in person's relation to them; null: themself. */
  relation: string | null;
}

export function choosePage(people: Person[], current: number | null, errors: FieldError[], csrf: string): Html {
  return html`${errorSummary(errors)}<form method="post" action="/portal/choose">${csrfField(csrf)}<div class="field${
    errors.length ? ' error' : ''
  }"><fieldset aria-describedby="person-hint${errors.length ? ' person-error' : ''}"><legend><h1>درآمد چه کسی را
    می‌خواهید ببینید؟</h1></legend><p class="hint" id="person-hint">هر وقت خواستید می‌توانید فرد دیگری را انتخاب کنید.</p>${
      errors[0] &&
      html`<p class="error-message" id="person-error"><span class="visually-hidden">خطا:</span> ${errors[0].message}</p>`
    }${people.map(
      (p, i) =>
        html`<div class="radio"><input type="radio" name="person" value="${p.id}" id="${i === 0 ? 'person' : `person-${p.id}`}"${
          p.id === current ? html` checked` : ''
        }><label for="${i === 0 ? 'person' : `person-${p.id}`}">${
          p.relation === null
            ? html`خودم
        (${p.name})`
            : html`${p.name} <span class="hint">(شما: ${RELATION_FA[p.relation] ?? RELATION_FA.OTHER})</span>`
        }</label></div>`,
    )}</fieldset></div><button class="button" type="submit">ادامه</button></form>`;
}

// ---- home -------------------------------------------------------------------------------------

export interface MonthRow {
  month: MonthId;
  status: 'DRAFT' | 'CLOSED' | 'PAID';
  earnedRials: bigint;
  carriedInRials: bigint;
  payableRials: bigint;
  carriedOutRials: bigint;
  /** When the month's bank batch was executed (null: not yet). */
  paidAt: Date | null;
}
export interface HomeView {
  name: string;
  /** Whose page: the signed-in person themself, or someone they represent. */
  self: boolean;
  runningMonth: MonthId;
  months: MonthRow[];
  shebaMasked: string | null;
  /** The Solar Hijri year "this year" refers to. */
  year: number;
  csrf: string;
}

/** What a month brings the person: paid, or carried to the next month when below the minimum. */
const monthAmount = (m: MonthRow) => m.earnedRials + m.carriedInRials;

function paymentSentence(m: MonthRow, shebaMasked: string | null): Html {
  if (m.status === 'DRAFT') return html`حساب این ماه هنوز بسته نشده است و این عدد برآورد است.`;
  if (m.payableRials === 0n && m.carriedOutRials > 0n)
    return html`این مبلغ کمتر از حداقل واریز بود؛ با درآمد ماه بعد یک‌جا واریز می‌شود.`;
  if (m.payableRials === 0n) return html`این ماه مبلغی برای واریز نداشتید.`;
  const account = shebaMasked ? html` به حساب بانکی شما (شبای ${bdi(shebaMasked, 'ltr')})` : '';
  if (m.paidAt) return html`در ${bdi(dayNameFa(m.paidAt.getTime()))}${account} واریز شد.`;
  return html`حساب این ماه بسته شده است و به‌زودی${account} واریز می‌شود.`;
}

export const statusTag = (m: MonthRow) =>
  m.status === 'DRAFT'
    ? html`<span class="tag">برآورد</span>`
    : m.paidAt
      ? html`<span class="tag paid">واریز شد</span>`
      : html`<span class="tag">قطعی</span>`;

function chart(rows: MonthRow[]): Html {
  // Oldest on the right: time runs in the reading direction.
  const W = 360;
  const H = 180;
  const base = 150;
  const max = Math.max(1, ...rows.map((r) => Number(monthAmount(r)))); // bar heights only: floats are fine
  const slot = W / Math.max(rows.length, 1);
  const bars = rows.map((r, i) => {
    const h = Math.round((Math.max(0, Number(monthAmount(r))) / max) * 130);
    const x = W - (i + 1) * slot + slot * 0.15;
    const w = slot * 0.7;
    const label = monthNameFa(r.month).split(' ')[0]!; // the month's name without the year
    return html`<rect x="${x.toFixed(1)}" y="${base - h}" width="${w.toFixed(1)}" height="${h}" fill="${
      r.status === 'DRAFT' ? 'url(#hatch)' : '#1d70b8'
    }" stroke="#0b0c0c" stroke-width="${r.status === 'DRAFT' ? 2 : 0}" stroke-dasharray="4 2"/><text
      x="${(x + w / 2).toFixed(1)}" y="${base + 18}" font-size="${rows.length > 6 ? 10 : 14}" text-anchor="middle" fill="#0b0c0c">${label}</text>`;
  });
  return html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title" focusable="false"><title
    id="chart-title">نمودار ستونی درآمد ماه‌ها؛ همین اعداد در جدول زیر آمده است</title><defs><pattern id="hatch"
    width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6"
    fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#1d70b8" stroke-width="3"/></pattern></defs><line x1="0"
    y1="${base}" x2="${W}" y2="${base}" stroke="#0b0c0c"/>${bars}</svg>`;
}

// A phone lost, sold or lent while it kept its owner signed in (docs/decisions/006): they end every
// session from whichever device they are on, without calling the office for a new PIN.
const signOutEverywhere = (csrf: string) =>
  html`<h2>گوشی‌هایی که وارد مانده‌اند</h2><p>اگر در گوشی‌ای «مرا وارد نگه دار» را زده‌اید و آن گوشی دیگر دست شما
    نیست، از همه گوشی‌ها خارج شوید. بعد از آن در هر گوشی، این یکی هم، باید دوباره با کد ملی و رمز وارد شوید.</p>
    <form method="post" action="/portal/sign-out-everywhere">${csrfField(csrf)}<button class="button secondary"
    type="submit">خروج از همه گوشی‌ها</button></form>`;

export function homePage(view: HomeView): Html {
  const running = view.months.find((m) => m.month === view.runningMonth && m.status === 'DRAFT');
  const closed = view.months.filter((m) => m.status !== 'DRAFT');
  const last = closed[0];
  const recent = view.months.slice(0, 12);
  const received = closed
    .filter((m) => m.paidAt && m.month.startsWith(`${view.year}-`))
    .reduce((t, m) => t + m.payableRials, 0n);
  const whose = view.self ? 'شما' : view.name;
  const runningName = monthNameFa(view.runningMonth);
  return html`<h1>درآمد خورشیدی ${view.self ? 'شما' : view.name}</h1>${
    running
      ? html`<p class="lead">${runningName} تا امروز: حدود ${bdi(roundTomanFa(monthAmount(running)))} تومان <span
        class="tag">برآورد</span></p><p>این عدد تا پایان ماه بیشتر می‌شود و هنوز قطعی نیست. قسط وام و هزینه ثابت
        نگهداری این ماه به نسبت روزهای گذشته کم شده است و بقیه تا پایان ماه کم می‌شود. مبلغ قطعی بعد از بسته شدن حساب
        ماه معلوم می‌شود. <a href="/portal/months/${running.month}">ریز برآورد ${runningName}</a></p>`
      : html`<p class="lead">برای ${runningName} هنوز برآوردی حساب نشده است.</p><p>برآورد درآمد هر روز به‌روز می‌شود؛ فردا دوباره سر بزنید.</p>`
  }<h2>آخرین ماه بسته‌شده</h2>${
    last
      ? html`<p>${monthNameFa(last.month)}: ${toman(monthAmount(last))} ${statusTag(last)}</p><p>
        ${paymentSentence(last, view.shebaMasked)}</p><p><a href="/portal/months/${last.month}">ریز حساب ${monthNameFa(last.month)}</a></p>`
      : html`<p>هنوز حساب هیچ ماهی برای ${whose} بسته نشده است.</p>`
  }<h2>واریزی‌های ${bdi(faInteger(view.year))}</h2><p>جمع پولی که امسال تا امروز به حساب ${whose} واریز شده: ${toman(received)}</p>${
    recent.length > 0 &&
    html`<h2 id="months-title">دوازده ماه اخیر</h2><figure class="chart">${chart(recent)}<figcaption>ستون‌های راه‌راه
      برآوردند و هنوز قطعی نیستند.</figcaption></figure><div class="scroll-region" role="region"
      aria-labelledby="months-title" tabindex="0"><table aria-labelledby="months-title" class="stack"><thead><tr><th
      scope="col">ماه</th><th scope="col" class="num">مبلغ (تومان)</th></tr></thead><tbody>${recent.map(
        (m) =>
          html`<tr><th scope="row"><a href="/portal/months/${m.month}">${monthNameFa(m.month)}</a> ${statusTag(m)}</th>
          <td class="num" data-label="مبلغ (تومان)">${bdi(tomanFa(monthAmount(m)))}</td></tr>`,
      )}</tbody></table></div>`
  }${signOutEverywhere(view.csrf)}`;
}

// ---- statement --------------------------------------------------------------------------------

/** A tariff segment of the installation's bill, as billing keeps it. */
export type Segment = StoredSegment;
export interface StatementLineView {
  installationCode: string;
  installationName: string;
  people: number;
  capacityW: number;
  weightW: number;
  activeDays: number;
  rials: bigint;
  energyWh: number;
  grossRials: bigint;
  adjustmentRials: bigint;
  loanRials: bigint;
  feeRials: bigint;
  netRials: bigint;
  segments: Segment[];
  adjustments: StoredAdjustment[];
  /** The plant's loans this month's installment changed, and what each still owes after it. */
  loans: { reference: string; deductedRials: bigint; balanceRials: bigint }[];
  /** The share's first and last day when they fall inside the month (Tehran civil dates, ISO). */
  share?: { startedOn: string | null; endedOn: string | null };
}
export interface StatementView {
  name: string;
  self: boolean;
  month: MonthRow;
  monthDays: number;
  lines: StatementLineView[];
  shebaMasked: string | null;
  sms: string;
}

/** A Tehran civil date (ISO) as people read it: «۴ آذر ۱۴۰۵». */
const dateFa = (isoDate: string) => dayNameFa(tehranMidnight(isoDate) + 12 * 3_600_000);
/** Rial per kWh actually paid: the tariff × the contract year's percent. */
const paidRate = (s: Pick<Segment, 'rialPerKwh' | 'percent'>) => Math.round((s.rialPerKwh * s.percent) / 100);

/** Why the price changed between two stretches of a month: only what really changed. */
export type RateChange = 'tariff' | 'step-down' | 'tariff and step-down';
export interface RateLine extends Segment {
  /** Why this line's price differs from the line before it (null on the first). */
  change: RateChange | null;
  /** The contract year of the line's last day (a line at one percent may span several years). */
  lastContractYear: number;
}

/**
 * The month's energy as people should read it: one line per price. Billing splits a month
 * wherever the contract or its year changes (it must price every day right); consecutive
 * segments at the same price are one line here, and a split says what changed.
 */
export function rateLines(segments: readonly Segment[]): RateLine[] {
  const lines: RateLine[] = [];
  for (const s of segments) {
    const last = lines.at(-1);
    if (last && last.rialPerKwh === s.rialPerKwh && last.percent === s.percent) {
      last.toDate = s.toDate;
      last.lastContractYear = s.contractYear;
      last.wh += s.wh;
      last.rials = (BigInt(last.rials) + BigInt(s.rials)).toString();
      continue;
    }
    const change: RateChange | null = !last
      ? null
      : last.rialPerKwh !== s.rialPerKwh && last.percent !== s.percent
        ? 'tariff and step-down'
        : last.rialPerKwh !== s.rialPerKwh
          ? 'tariff'
          : 'step-down';
    lines.push({ ...s, change, lastContractYear: s.contractYear });
  }
  return lines;
}

function changeSentence(line: RateLine, before: RateLine): Html {
  const from = bdi(dateFa(line.fromDate));
  const stepDown = html`سال ${bdi(faNumber(line.contractYear))} قرارداد نیروگاه شروع شد و طبق قرارداد از آن
    روز ${bdi(faNumber(line.percent))} درصد نرخ پرداخت می‌شود`;
  const tariff = html`نرخ خرید برق از ${rials(BigInt(before.rialPerKwh))} به ${rials(BigInt(line.rialPerKwh))} برای هر کیلووات‌ساعت تغییر کرد`;
  if (line.change === 'tariff') return html`از ${from} ${tariff}.`;
  if (line.change === 'step-down') return html`از ${from} ${stepDown}.`;
  return html`از ${from} ${tariff} و ${stepDown}.`;
}

function saleSentences(l: StatementLineView): Html {
  const lines = rateLines(l.segments);
  const only = lines.length === 1 ? lines[0]! : null;
  if (only)
    return html`<p>برق آن کیلوواتی ${rials(BigInt(paidRate(only)))} فروخته شد${
      only.percent !== 100
        ? html` (${bdi(faNumber(only.percent))} درصد نرخ قرارداد، در ${
            only.contractYear === only.lastContractYear
              ? html`سال ${bdi(faNumber(only.contractYear))}`
              : html`سال‌های ${bdi(faNumber(only.contractYear))} و ${bdi(faNumber(only.lastContractYear))}`
          } قرارداد)`
        : ''
    }؛ یعنی ${rials(l.grossRials)}.</p>`;
  if (lines.length === 0) return html`<p>برای این ماه نرخ فروشی ثبت نشده بود؛ فروش برق: ${rials(l.grossRials)}.</p>`;
  return html`<p>نرخ فروش برق در این ماه یک بار یا بیشتر عوض شد:</p><ul>${lines.map(
    (line, i) =>
      html`<li>${i > 0 ? html`${changeSentence(line, lines[i - 1]!)} ` : ''}از ${bdi(dateFa(line.fromDate))}
        تا ${bdi(dateFa(line.toDate))}: ${bdi(kwhFa(line.wh))} کیلووات‌ساعت، کیلوواتی ${rials(BigInt(paidRate(line)))}: ${rials(BigInt(line.rials))}</li>`,
  )}</ul><p>جمع فروش برق: ${rials(l.grossRials)}.</p>`;
}

/** Why a share counted fewer days than the month has: it started or ended within the month. */
function shareDays(l: StatementLineView, monthDays: number, who: string): Html {
  const days = html`برای ${bdi(faNumber(l.activeDays))} روز از ${bdi(faNumber(monthDays))} روز ماه`;
  if (l.activeDays >= monthDays || !l.share) return days;
  const { startedOn, endedOn } = l.share;
  const why = [
    startedOn && html`سهم ${who} از ${bdi(dateFa(startedOn))} شروع شد`,
    endedOn && html`سهم ${who} ${bdi(dateFa(endedOn))} تمام شد`,
  ].filter((w): w is Html => w !== null);
  return why.length === 0 ? days : html`${days}، چون ${why.map((w, i) => html`${i > 0 ? ' و ' : ''}${w}`)}`;
}

function lineSection(l: StatementLineView, monthDays: number, who: string): Html {
  const deductions = [
    l.loanRials > 0n && html`قسط وام نیروگاه (${rials(l.loanRials)})`,
    l.feeRials > 0n && html`هزینه نگهداری و بیمه (${rials(l.feeRials)})`,
  ].filter((d): d is Html => d !== false);
  return html`<section aria-labelledby="inst-${l.installationCode}"><h2
    id="inst-${l.installationCode}">نیروگاه ${l.installationName} <span class="code">(کد ${bdi(l.installationCode, 'ltr')})</span></h2><p>${
      l.people > 1
        ? html`این نیروگاه ${bdi(faNumber(l.people))} سهم‌دار دارد و ${who} یکی از آن‌هاست.`
        : html`این نیروگاه فقط یک سهم‌دار دارد: ${who}.`
    } این ماه ${bdi(kwhFa(l.energyWh))} کیلووات‌ساعت برق تولید کرد.</p>${saleSentences(l)}${l.adjustments.map(
      (a) =>
        html`<p>برای ${monthNameFa(a.forMonth)} داده‌هایی دیر رسید (${bdi(kwhFa(a.wh))} کیلووات‌ساعت)؛ به همین خاطر ${rials(BigInt(a.rials))} ${
          BigInt(a.rials) < 0n ? 'کم' : 'اضافه'
        } شد. ماه بسته‌شده تغییر نمی‌کند و این اصلاح در همین ماه آمده است.</p>`,
    )}<p>${
      deductions.length > 0
        ? html`از این مبلغ ${deductions.map((d, i) => html`${i > 0 ? ' و ' : ''}${d}`)} کم شد و`
        : 'چیزی از این مبلغ کم نشد و'
    } ${rials(l.netRials)} برای سهم‌داران ماند.</p>${l.loans.map(
      (loan) =>
        html`<p>${
          loan.balanceRials > 0n
            ? html`از وام نیروگاه (${bdi(loan.reference, 'ltr')}) پس از قسط این ماه ${rials(loan.balanceRials)} مانده است.`
            : html`با قسط این ماه وام نیروگاه (${bdi(loan.reference, 'ltr')}) تمام شد.`
        }</p>`,
    )}<p>سهم ${who} ${bdi(kwFa(l.weightW))} کیلووات از ${bdi(kwFa(l.capacityW))} کیلووات نیروگاه
    بود، ${shareDays(l, monthDays, who)}؛ یعنی ${rials(l.rials)}.</p><dl class="figures"><dt>تولید برق</dt><dd>
    ${bdi(kwhFa(l.energyWh))} کیلووات‌ساعت</dd><dt>فروش برق</dt><dd>${rials(l.grossRials)}</dd>${
      l.adjustmentRials !== 0n && html`<dt>اصلاح داده‌های دیررس</dt><dd>${rials(l.adjustmentRials)}</dd>`
    }<dt>کم شد: قسط وام</dt><dd>${rials(l.loanRials)}</dd><dt>کم شد: هزینه نگهداری</dt><dd>${rials(l.feeRials)}</dd>
    <dt>سهم همه سهم‌داران</dt><dd>${rials(l.netRials)}</dd><dt class="total">سهم ${who}</dt><dd class="total">${rials(l.rials)}</dd></dl></section>`;
}

export function statementPage(view: StatementView, printable: boolean): Html {
  const m = view.month;
  const name = monthNameFa(m.month);
  const total = monthAmount(m);
  const who = view.self ? 'شما' : view.name;
  return html`<h1>ریز حساب ${name}${view.self ? '' : html` — ${view.name}`}</h1><p class="lead">سهم ${who} از
    درآمد ${name}: ${toman(total)} ${statusTag(m)}</p><p>یعنی ${rials(total)}.</p><p>${paymentSentence(m, view.shebaMasked)}</p>${view.lines.map(
      (l) => lineSection(l, view.monthDays, who),
    )}<h2>جمع ${name}</h2><dl class="figures"><dt>سهم ${who} از نیروگاه‌ها</dt><dd>${rials(m.earnedRials)}</dd>${
      m.carriedInRials > 0n && html`<dt>مانده از ماه‌های قبل</dt><dd>${rials(m.carriedInRials)}</dd>`
    }<dt>جمع</dt><dd>${rials(total)}</dd><dt class="total">یعنی</dt><dd class="total">${toman(total)}</dd>${
      m.carriedOutRials > 0n && html`<dt>به ماه بعد منتقل شد</dt><dd>${rials(m.carriedOutRials)}</dd>`
    }</dl>${m.status !== 'DRAFT' && html`<h2>پیامک این ماه</h2><p class="sms">${view.sms}</p>`}${
      printable
        ? html`<p class="no-print">برای چاپ، «چاپ» را از منوی مرورگر بزنید. <a href="/portal/months/${m.month}">بازگشت به ریز حساب</a></p>`
        : html`<div class="actions"><a class="button secondary" href="/portal/months/${m.month}/print">نسخه چاپی</a><a
        href="/portal/home">بازگشت به صفحه اصلی</a></div>`
    }`;
}

// ---- help and errors --------------------------------------------------------------------------

export interface HelpView {
  helpPhone: string;
  /** The signed-in person's province and its office line, when known. */
  office: { provinceFa: string; phone: string } | null;
  offices: { provinceFa: string; phone: string }[];
}

export function helpPage(view: HelpView): Html {
  return html`<h1>راهنما</h1><p class="lead">اگر سؤالی دارید، با اداره بهزیستی تماس بگیرید: ${
    view.office ? html`${view.office.provinceFa} ${phoneLink(view.office.phone)}` : phoneLink(view.helpPhone)
  }</p><h2>این برنامه چیست؟</h2><p>سازمان بهزیستی روی بام خانه‌ها یا در نیروگاه‌های مشترک، پنل خورشیدی نصب کرده است.
    برق این پنل‌ها به شبکه فروخته می‌شود و پول آن هر ماه به حساب کسانی واریز می‌شود که در آن نیروگاه سهم دارند.</p>
    <h2>درآمد من چطور حساب می‌شود؟</h2><ol><li>هر ماه معلوم می‌شود نیروگاه چقدر برق تولید کرده است.</li><li>این برق با
    نرخ قرارداد فروخته می‌شود.</li><li>قسط وام نیروگاه و هزینه نگهداری از آن کم می‌شود.</li><li>باقی‌مانده به اندازه
    سهم هر نفر و روزهایی که سهم داشته تقسیم می‌شود.</li></ol><p>در ریز حساب هر ماه همه این عددها را می‌بینید. هر تومان
    ۱۰ ریال است.</p><h2>کی پول واریز می‌شود؟</h2><p>حساب هر ماه چند روز بعد از پایان ماه بسته می‌شود و بعد به حساب
    بانکی شما واریز می‌شود. تا وقتی ماه تمام نشده، عددی که می‌بینید «برآورد» است. اگر مبلغ یک ماه خیلی کم باشد، با ماه
    بعد یک‌جا واریز می‌شود.</p><h2>اگر رمز را فراموش کردم؟</h2><p>رمز را فقط اداره بهزیستی می‌تواند عوض کند. اگر چند
    بار رمز را اشتباه بزنید، ورود برای مدتی بسته می‌شود؛ بعد از آن دوباره امتحان کنید.</p><h2>اگر گوشی‌ام گم شد؟</h2>
    <p>اگر در آن گوشی «مرا وارد نگه دار» را زده بودید، با گوشی دیگری وارد شوید و در صفحه اصلی «خروج از همه گوشی‌ها»
    را بزنید، یا با اداره بهزیستی تماس بگیرید تا شما را از همه گوشی‌ها خارج کند. روی گوشی مشترک، بعد از دیدن درآمد
    دکمه «خروج» را بزنید.</p><h2>شماره‌های
    تماس</h2><p>تلفن سراسری: ${phoneLink(view.helpPhone)}</p>${
      view.offices.length > 0 &&
      html`<h3>اداره بهزیستی استان‌ها</h3><ul>${view.offices.map((o) => html`<li>${o.provinceFa}: ${phoneLink(o.phone)}</li>`)}</ul>`
    }`;
}

export function errorPage(title: string, message: Html | string): Html {
  return html`<h1>${title}</h1><p>${message}</p><p><a href="/portal/home">بازگشت به صفحه اصلی</a></p>`;
}
