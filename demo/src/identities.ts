// Synthetic people for the demo program. Their identifiers pass every check the platform makes,
// yet can never be a real person's or a real account:
//  - national codes start with 000. The first three digits name the registry office that issued
//    the code; no office has 000 (Tehran's start at 001), so no one was ever issued one;
//  - Sheba numbers carry bank code 000 (IRkk 000 …): the Central Bank of Iran gives the banks codes
//    from 010 up (017 Melli, 012 Mellat, …), none 000, so no transfer could reach an account;
//  - mobiles are 0900 000 xxxx: synthetic, and the platform sends nothing to them.
// Names are common Persian first names and surnames, combined at random. Pure.
import { shebaOfBban, withNationalCodeCheckDigit } from '../../lib/identifiers/validate';

export const FICTIONAL_NATIONAL_CODE_PREFIX = '000';
export const FICTIONAL_SHEBA_BANK_CODE = '000';

/** Fictional national code number n (0 ≤ n < 900,000): 000, six digits (never all zero), the check digit. */
export function fictionalNationalCode(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 900_000) throw new RangeError(`fictional national code ${n} out of range`);
  return withNationalCodeCheckDigit(`${FICTIONAL_NATIONAL_CODE_PREFIX}${100_000 + n}`);
}

/** Fictional Sheba number n: bank code 000, then n in 19 digits. */
export function fictionalSheba(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`fictional Sheba ${n} out of range`);
  return shebaOfBban(`${FICTIONAL_SHEBA_BANK_CODE}${String(n).padStart(19, '0')}`);
}

export const fictionalMobile = (n: number) => `0900000${String(n % 10_000).padStart(4, '0')}`;

const FEMALE = [
  'فاطمه',
  'زهرا',
  'مریم',
  'معصومه',
  'زینب',
  'سمیه',
  'لیلا',
  'نرگس',
  'الهام',
  'مهناز',
  'شهلا',
  'رقیه',
  'طاهره',
  'سکینه',
  'فرشته',
  'پروین',
  'اعظم',
  'خدیجه',
  'صدیقه',
  'کبری',
];
const MALE = [
  'محمد',
  'علی',
  'حسین',
  'رضا',
  'مهدی',
  'حسن',
  'احمد',
  'جواد',
  'مصطفی',
  'سعید',
  'امیر',
  'مجید',
  'ابراهیم',
  'یوسف',
  'کاظم',
  'اکبر',
  'محسن',
  'هادی',
  'قاسم',
  'عباس',
];
const SURNAMES = [
  'احمدی',
  'محمدی',
  'حسینی',
  'رضایی',
  'کریمی',
  'موسوی',
  'جعفری',
  'صادقی',
  'رحیمی',
  'قاسمی',
  'نوری',
  'کاظمی',
  'ابراهیمی',
  'سلیمانی',
  'اکبری',
  'هاشمی',
  'عباسی',
  'مرادی',
  'یوسفی',
  'حیدری',
  'نظری',
  'رستمی',
  'زارعی',
  'بهرامی',
  'شریفی',
  'طاهری',
  'امینی',
  'باقری',
  'نجفی',
  'فرهادی',
];

/** A Persian full name from two random numbers in [0, 1). */
export function persianName(female: boolean, u1: number, u2: number): string {
  const first = female ? FEMALE : MALE;
  return `${first[Math.floor(u1 * first.length)]} ${SURNAMES[Math.floor(u2 * SURNAMES.length)]}`;
}
