// The registry's bulk writer (the demo seed's) against a real PostgreSQL: it writes a program the
// API would accept, and refuses, before writing anything, one the API would refuse share by share.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withNationalCodeCheckDigit } from '../../lib/identifiers/validate';
import { withTransaction } from '../../lib/transaction';
import { freshPgDatabase } from '../../testing/services';
import { type Program, RegistryError, registerProgram } from '../index';

let pool: pg.Pool;
beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await freshPgDatabase('registry_program'), max: 2 });
});
afterAll(() => pool?.end());

const person = (n: number) => ({
  nationalCode: withNationalCodeCheckDigit(`00100000${n}`),
  fullName: `person ${n}`,
  mobile: null,
  sheba: null,
  provinceCode: 'tehran',
  targetGroup: 'OTHER',
  pinHash: null,
});
const share = (n: number, validFrom: string, validUntil: string | null = null) => ({
  nationalCode: person(n).nationalCode,
  weightW: 5000,
  validFrom,
  validUntil,
});
/** A 15 kWp plant: three 5 kW seats, the third changing hands on 20 January (plus `extra`). */
function program(code: string, ...extra: ReturnType<typeof share>[]): Program {
  return {
    beneficiaries: [1, 2, 3, 4, 5].map(person),
    installations: [
      {
        code,
        name: 'shared plant',
        provinceCode: 'tehran',
        latitude: 35.7,
        longitude: 51.4,
        dcKwp: 15,
        acKw: 15,
        commissionedOn: '2025-01-01',
        inverters: [{ serial: `${code}-INV`, ratedAcW: 15_000, model: 'test' }],
        shares: [share(1, '2026-01-01'), share(2, '2026-01-01'), share(3, '2026-01-01', '2026-01-20')]
          .concat(share(4, '2026-01-20'))
          .concat(extra),
        contract: {
          reference: `${code}-C`,
          kind: 'SUPPORT',
          startDate: '2025-01-01',
          tariffs: [{ from: '2025-01-01', until: null, rialPerKwh: 38_500 }],
        },
        loan: null,
      },
    ],
  };
}
const registered = async (code: string) =>
  (await pool.query('SELECT count(*)::int AS n FROM installations WHERE code = $1', [code])).rows[0].n;

describe('registerProgram', () => {
  it('writes a program whose shares fill the capacity exactly, a seat changing hands', async () => {
    const counts = await withTransaction(pool, (db) => registerProgram(db, program('REG-OK')));
    expect(counts).toMatchObject({ installations: 1, inverters: 1, beneficiaries: 5, shares: 4, contracts: 1 });
    expect(await registered('REG-OK')).toBe(1);
  });

  it('refuses a plan whose shares exceed capacity on some day, overlap for one person, or whose identifiers are wrong', async () => {
    const over = withTransaction(pool, (db) => registerProgram(db, program('REG-OVER', share(5, '2026-02-01'))));
    await expect(over).rejects.toThrow(RegistryError);
    await expect(over).rejects.toThrow(
      "weightW: installation REG-OVER, the share from 2026-02-01: shares would reach 20000 W on some day, above the installation's 15000 W",
    );
    const twice = withTransaction(pool, (db) => registerProgram(db, program('REG-TWICE', share(1, '2026-03-01'))));
    await expect(twice).rejects.toThrow(/^validFrom: installation REG-TWICE.*overlaps this period/);
    const unchecked = program('REG-ID');
    unchecked.beneficiaries[1]!.nationalCode = '0010000022';
    await expect(withTransaction(pool, (db) => registerProgram(db, unchecked))).rejects.toThrow(
      "nationalCode: the program's beneficiary 2: ",
    );
    expect(await registered('REG-OVER')).toBe(0);
    expect(await registered('REG-TWICE')).toBe(0);
    expect(await registered('REG-ID')).toBe(0);
  });

  it("refuses a plan with a loan its installments do not repay, or a tariff period that ends before it starts, as the API's routes do", async () => {
    const unpaid = program('REG-LOAN');
    unpaid.installations[0]!.loan = {
      reference: 'REG-LOAN-L',
      principalRials: 10_000_000n,
      installmentRials: 999_999n,
      installments: 10,
      firstDueMonth: '1405-08',
    };
    await expect(withTransaction(pool, (db) => registerProgram(db, unpaid))).rejects.toThrow(
      'installments: installation REG-LOAN: 10 installments of 999999 Rials do not repay the principal of 10000000 Rials',
    );
    const backwards = program('REG-TARIFF');
    backwards.installations[0]!.contract!.tariffs = [{ from: '2025-01-01', until: '2024-12-31', rialPerKwh: 38_500 }];
    await expect(withTransaction(pool, (db) => registerProgram(db, backwards))).rejects.toThrow(
      'tariffs.0.effectiveUntil: installation REG-TARIFF: must be after effectiveFrom',
    );
    expect(await registered('REG-LOAN')).toBe(0);
    expect(await registered('REG-TARIFF')).toBe(0);
  });
});
