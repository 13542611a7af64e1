// Numbers and money as Persian readers expect them: Persian digits, the Persian thousands
// separator (٬) and decimal separator (٫), amounts in Toman (1 Toman = 10 Rials). Money stays
// bigint Rials until it is written: Toman are exact (a single decimal place when the Rials are not
// a multiple of 10), never a float. Pure.
const grouped = new Intl.NumberFormat('fa-IR', { useGrouping: true, maximumFractionDigits: 0 });
const plain = new Intl.NumberFormat('fa-IR', { useGrouping: false, maximumFractionDigits: 0 });
const DECIMAL = '٫';

/** An integer in Persian digits with thousands separators: 1234567 → ۱٬۲۳۴٬۵۶۷. */
export const faNumber = (n: number | bigint) => grouped.format(n);
/** An integer in Persian digits without separators (years, days): 1405 → ۱۴۰۵. */
export const faInteger = (n: number | bigint) => plain.format(n);

const negative = (rials: bigint, text: string) => (rials < 0n ? `−${text}` : text);

/** Rials as Toman, exact: 1234565 → ۱۲۳٬۴۵۶٫۵ (a tenth of a Toman only when there is one). */
export function tomanFa(rials: bigint): string {
  const abs = rials < 0n ? -rials : rials;
  const tenth = abs % 10n;
  return negative(rials, `${faNumber(abs / 10n)}${tenth === 0n ? '' : `${DECIMAL}${faInteger(tenth)}`}`);
}

/** Rials as whole Toman, halves up: for estimates ("about N Toman") and the SMS. */
export function roundTomanFa(rials: bigint): string {
  const abs = rials < 0n ? -rials : rials;
  return negative(rials, faNumber((abs + 5n) / 10n));
}

export const rialsFa = (rials: bigint) => negative(rials, faNumber(rials < 0n ? -rials : rials));

/** Watt-hours as kWh with at most one decimal: 1234567 → ۱٬۲۳۴٫۶ (tenths rounded half up). */
export function kwhFa(wh: number | bigint): string {
  const tenths = (BigInt(wh) + 50n) / 100n;
  const rest = tenths % 10n;
  return `${faNumber(tenths / 10n)}${rest === 0n ? '' : `${DECIMAL}${faInteger(rest)}`}`;
}

/** Watts as kW with at most two decimals: 5000 → ۵, 1250 → ۱٫۲۵. */
export function kwFa(w: number): string {
  const whole = Math.floor(w / 1000);
  const frac = String(w % 1000)
    .padStart(3, '0')
    .slice(0, 2)
    .replace(/0+$/, '');
  return `${faNumber(whole)}${frac ? `${DECIMAL}${frac.replace(/\d/g, (d) => faInteger(Number(d)))}` : ''}`;
}
