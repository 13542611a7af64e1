// Validation of the identifiers people type: each returns the normalised value or a reason that
// names the problem.
import { compactIdentifier } from './digits';

export type Checked = { ok: true; value: string } | { ok: false; reason: string };

/** Iranian national code (کد ملی): 10 digits, the last a mod-11 check digit. */
export function checkNationalCode(input: string): Checked {
  const code = compactIdentifier(input);
  if (!/^\d+$/.test(code)) return { ok: false, reason: 'national code must contain only digits' };
  if (code.length !== 10) return { ok: false, reason: `national code must have 10 digits, got ${code.length}` };
  if (/^(\d)\1{9}$/.test(code)) return { ok: false, reason: 'national code cannot be one digit repeated' };
  const sum = [...code.slice(0, 9)].reduce((s, d, i) => s + Number(d) * (10 - i), 0);
  const r = sum % 11;
  const check = Number(code[9]);
  if (check !== (r < 2 ? r : 11 - r)) return { ok: false, reason: 'national code check digit is wrong' };
  return { ok: true, value: code };
}

/** ISO 13616 mod-97 remainder of an IBAN's rearranged digits. */
function ibanRemainder(iban: string): number {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  const digits = rearranged.replace(/[A-Z]/g, (c) => String(c.charCodeAt(0) - 55));
  let remainder = 0;
  for (let i = 0; i < digits.length; i += 7) remainder = Number(`${remainder}${digits.slice(i, i + 7)}`) % 97;
  return remainder;
}

/** Sheba: IR + 24 digits, ISO 13616 mod-97 check. */
export function checkSheba(input: string): Checked {
  const sheba = compactIdentifier(input).toUpperCase();
  const body = sheba.startsWith('IR') ? sheba : `IR${sheba}`;
  if (!/^IR\d+$/.test(body)) return { ok: false, reason: 'Sheba must be IR followed by 24 digits' };
  if (body.length !== 26)
    return { ok: false, reason: `Sheba must be IR followed by 24 digits, got ${body.length - 2} digits` };
  if (ibanRemainder(body) !== 1) return { ok: false, reason: 'Sheba check digits are wrong' };
  return { ok: true, value: body };
}

/** Mobile number: 09xxxxxxxxx; +98, 0098 and 98 prefixes accepted. */
export function checkMobile(input: string): Checked {
  let mobile = compactIdentifier(input).replace(/^\+/, '');
  if (mobile.startsWith('0098')) mobile = `0${mobile.slice(4)}`;
  else if (mobile.startsWith('98')) mobile = `0${mobile.slice(2)}`;
  else if (mobile.startsWith('9') && mobile.length === 10) mobile = `0${mobile}`;
  if (!/^09\d{9}$/.test(mobile)) return { ok: false, reason: 'mobile must be 11 digits starting with 09' };
  return { ok: true, value: mobile };
}

/** The national code whose first nine digits are `body`: the body and its mod-11 check digit. */
export function withNationalCodeCheckDigit(body: string): string {
  const r = [...body].reduce((s, d, i) => s + Number(d) * (10 - i), 0) % 11;
  return body + String(r < 2 ? r : 11 - r);
}

/** The Sheba of a 22-digit BBAN (bank code, then account): IR, the mod-97 check digits, the BBAN. */
export function shebaOfBban(bban: string): string {
  const check = 98 - ibanRemainder(`IR00${bban}`);
  return `IR${String(check).padStart(2, '0')}${bban}`;
}

/** A valid national code from any number (seeding and tests). */
export function nationalCodeFor(n: number): string {
  const code = withNationalCodeCheckDigit(String(Math.abs(Math.trunc(n)) % 1_000_000_000).padStart(9, '0'));
  return /^(\d)\1{9}$/.test(code) ? nationalCodeFor(n + 1) : code;
}

/** A valid Sheba from any number (seeding and tests). */
export const shebaFor = (n: number): string =>
  shebaOfBban(`0170000000${String(Math.abs(Math.trunc(n))).padStart(12, '0')}`.slice(-22));

/** For logs and screens that must not show personal data in full. */
export const maskIdentifier = (value: string, visible = 4) =>
  `${'*'.repeat(Math.max(0, value.length - visible))}${value.slice(-visible)}`;
