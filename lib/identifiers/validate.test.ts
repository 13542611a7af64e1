import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toAsciiDigits, toPersianDigits } from './digits';
import { checkMobile, checkNationalCode, checkSheba, maskIdentifier, nationalCodeFor, shebaFor } from './validate';

describe('national code', () => {
  it('accepts valid codes, in Persian or Arabic digits and with separators', () => {
    expect(checkNationalCode('0499370899')).toEqual({ ok: true, value: '0499370899' });
    expect(checkNationalCode('۰۷۹۰۴۱۹۹۰۴')).toEqual({ ok: true, value: '0790419904' });
    expect(checkNationalCode(' 079-041990-4 ')).toEqual({ ok: true, value: '0790419904' });
    expect(checkNationalCode('٠٤٩٩٣٧٠٨٩٩')).toMatchObject({ ok: true });
  });

  it('names the problem', () => {
    expect(checkNationalCode('0499370898')).toEqual({ ok: false, reason: 'national code check digit is wrong' });
    expect(checkNationalCode('123')).toEqual({ ok: false, reason: 'national code must have 10 digits, got 3' });
    expect(checkNationalCode('04993708a9')).toEqual({ ok: false, reason: 'national code must contain only digits' });
    expect(checkNationalCode('1111111111')).toEqual({
      ok: false,
      reason: 'national code cannot be one digit repeated',
    });
  });

  it('generated codes validate and any single-digit change of the check digit breaks them', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999 }), (n) => {
        const code = nationalCodeFor(n);
        const wrong = code.slice(0, 9) + String((Number(code[9]) + 1) % 10);
        return checkNationalCode(code).ok && !checkNationalCode(wrong).ok;
      }),
    );
  });
});

describe('Sheba', () => {
  it('accepts valid Shebas in any usual spelling and names problems', () => {
    const sheba = shebaFor(123456);
    expect(checkSheba(sheba)).toEqual({ ok: true, value: sheba });
    expect(checkSheba(toPersianDigits(sheba.toLowerCase().replace(/(.{4})/g, '$1 ')))).toEqual({
      ok: true,
      value: sheba,
    });
    expect(checkSheba('IR12')).toEqual({ ok: false, reason: 'Sheba must be IR followed by 24 digits, got 2 digits' });
    expect(checkSheba('DE89370400440532013000')).toMatchObject({ ok: false });
  });

  it('detects every single-digit change (mod 97)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e12 }),
        fc.integer({ min: 2, max: 25 }),
        fc.integer({ min: 1, max: 9 }),
        (n, pos, delta) => {
          const sheba = shebaFor(n);
          const changed = sheba.slice(0, pos) + String((Number(sheba[pos]) + delta) % 10) + sheba.slice(pos + 1);
          return checkSheba(sheba).ok && !checkSheba(changed).ok;
        },
      ),
    );
  });
});

describe('mobile and digits', () => {
  it('normalises the usual forms of an Iranian mobile number', () => {
    for (const input of ['09121234567', '+989121234567', '00989121234567', '989121234567', '۰۹۱۲ ۱۲۳ ۴۵۶۷'])
      expect(checkMobile(input)).toEqual({ ok: true, value: '09121234567' });
    expect(checkMobile('0212345678')).toEqual({ ok: false, reason: 'mobile must be 11 digits starting with 09' });
  });

  it('converts digits both ways and masks identifiers', () => {
    expect(toAsciiDigits('۱۴۰۵-۰۸ و ١٢')).toBe('1405-08 و 12');
    expect(toPersianDigits('1405')).toBe('۱۴۰۵');
    expect(maskIdentifier('0499370899')).toBe('******0899');
  });
});
