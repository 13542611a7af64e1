// A beneficiary's typed-in identifiers, validated and normalised (API and import).
import { checkMobile, checkNationalCode, checkSheba, type Checked } from '../../lib/identifiers/validate';
import { invalidField } from './errors';

const valid = (field: string, checked: Checked) => {
  if (!checked.ok) throw invalidField(field, checked.reason);
  return checked.value;
};
const optional = (field: string, value: string | null | undefined, check: (v: string) => Checked) =>
  value === undefined ? undefined : value === null || value.trim() === '' ? null : valid(field, check(value));

export const nationalCodeOf = (input: string) => valid('nationalCode', checkNationalCode(input));
export const mobileOf = (input: string | null | undefined) => optional('mobile', input, checkMobile);
export const shebaOf = (input: string | null | undefined) => optional('sheba', input, checkSheba);
