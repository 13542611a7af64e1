// Bulk CSV import through the API against the real PostgreSQL and broker.
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toPersianDigits } from '../../lib/identifiers/digits';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { bearer, staffToken, testApp } from '../../testing/api';
import { withPg } from '../../testing/services';
import { IMPORT_LIMITS, runImport } from '../../registry';

let app: FastifyInstance;
let operator = '';
const run = Number(process.pid) % 100_000;
const code = (n: number) => nationalCodeFor(run * 10_000 + 5000 + n);

beforeAll(async () => {
  app = await testApp();
  operator = await staffToken(app, `importer-${run}`, 'OPERATOR');
});
afterAll(async () => {
  await app.close();
});

const importCsv = (kind: string, csv: string, dryRun = false) =>
  app.inject({
    method: 'POST',
    url: `/imports/${kind}?dryRun=${dryRun}`,
    headers: { ...bearer(operator), 'content-type': 'text/csv' },
    payload: csv,
  });
const count = async (table: string, where: string, value: unknown) =>
  (await withPg((c) => c.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, [value]))).rows[0].n as number;

describe('CSV import', () => {
  const people = [
    'national_code,full_name,mobile,sheba,province,target_group',
    `${toPersianDigits(code(1))},فاطمه احمدی,۰۹۱۲۱۲۳۴۵۶۷,${shebaFor(1)},yazd,WOMAN_HEAD_OF_HOUSEHOLD`,
    `${code(2)},"رضا کریمی، پسر",,,kerman,PERSON_WITH_DISABILITY`,
  ].join('\n');

  it('dry-runs, imports all-or-nothing, and re-imports the same file without changes', async () => {
    const dry = await importCsv('beneficiaries', people, true);
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, rows: 2, created: 2, errors: [] });
    expect(await count('beneficiaries', 'national_code = $1', code(1))).toBe(0); // nothing written

    const real = await importCsv('beneficiaries', people);
    expect(real.json()).toMatchObject({ dryRun: false, rows: 2, created: 2, updated: 0, unchanged: 0 });
    const stored = await withPg((c) =>
      c.query('SELECT full_name, mobile FROM beneficiaries WHERE national_code = $1', [code(1)]),
    );
    expect(stored.rows[0]).toEqual({ full_name: 'فاطمه احمدی', mobile: '09121234567' });

    const again = await importCsv('beneficiaries', people);
    expect(again.json()).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    const changed = await importCsv('beneficiaries', people.replace('رضا کریمی، پسر', 'رضا کریمی'));
    expect(changed.json()).toMatchObject({ created: 0, updated: 1, unchanged: 1 });
  });

  it('reports every bad row with line, column and reason, and then writes nothing', async () => {
    const csv = [
      'national_code,full_name,mobile,sheba,province,target_group',
      `${code(3)},درست,,,fars,OTHER`,
      `0499370898,کد غلط,,,fars,OTHER`,
      `${code(4)},شبا غلط,,IR000000000000000000000000,fars,OTHER`,
      `${code(5)},استان غلط,,,atlantis,OTHER`,
      `${code(6)},گروه غلط,,,fars,ROBOTS`,
      `${code(3)},تکراری,,,fars,OTHER`,
    ].join('\n');
    const response = await importCsv('beneficiaries', csv);
    expect(response.statusCode).toBe(422);
    expect(response.json().errors).toEqual([
      { line: 3, column: 'national_code', reason: 'national code check digit is wrong' },
      { line: 4, column: 'sheba', reason: 'Sheba check digits are wrong' },
      { line: 5, column: 'province', reason: "unknown province code 'atlantis'" },
      { line: 6, column: 'target_group', reason: expect.stringMatching(/must be one of/) },
      { line: 7, column: 'national_code', reason: 'duplicates line 2' },
    ]);
    expect(await count('beneficiaries', 'national_code = $1', code(3))).toBe(0); // the good row was not kept either
    expect((await importCsv('beneficiaries', 'name,province\nx,yazd')).json().errors[0]).toMatchObject({
      line: 1,
      reason: expect.stringMatching(/missing national_code/),
    });
  });

  it('bounds an import by rows and by time, and refuses dates that are not on the calendar', async () => {
    const header = 'national_code,full_name,mobile,sheba,province,target_group';
    const rows = (n: number, from: number) =>
      Array.from({ length: n }, (_, i) => `${code(from + i)},نفر ${i},,,yazd,OTHER`);
    const tooMany = await importCsv(
      'beneficiaries',
      [header, ...rows(IMPORT_LIMITS.maxRows + 1, 100)].join('\n'),
      true,
    );
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().errors).toEqual([
      {
        line: 0,
        column: '',
        reason: `the file has ${IMPORT_LIMITS.maxRows + 1} rows, the limit is ${IMPORT_LIMITS.maxRows}: split it into smaller files`,
      },
    ]);
    const slow = await runImport(app.prisma, 'beneficiaries', [header, ...rows(300, 100)].join('\n'), {
      dryRun: false,
      actor: 'test',
      limits: { maxRows: 1000, timeoutMs: 100 },
    });
    expect(slow.errors).toEqual([
      {
        line: 0,
        column: '',
        reason: 'the import did not finish within 0.1 s and nothing was imported: split the file',
      },
    ]);
    expect(await count('beneficiaries', 'national_code = $1', code(100))).toBe(0);

    const site = `IMP-DATE-${run}`;
    const installations = await importCsv(
      'installations',
      `code,name,province,latitude,longitude,dc_kwp,ac_kw,commissioned_on\n${site},x,yazd,31.9,54.4,5,5,2024-02-31`,
    );
    expect(installations.json().errors).toEqual([
      { line: 2, column: 'commissioned_on', reason: "must be a date YYYY-MM-DD, got '2024-02-31'" },
    ]);
  });

  it('imports installations, inverters (with broker accounts) and shares that obey the capacity rule', async () => {
    const site = `IMP${run}`;
    expect(
      (
        await importCsv(
          'installations',
          `code,name,province,latitude,longitude,dc_kwp,ac_kw,commissioned_on,status\n${site},نیروگاه,yazd,31.9,54.36,10,10,2026-01-15,COMMISSIONED`,
        )
      ).json(),
    ).toMatchObject({ created: 1 });
    const inverters = await importCsv(
      'inverters',
      `serial,installation_code,rated_ac_w,model\n${site}-A,${site},5000,SUN\n${site}-B,${site},5000,SUN`,
    );
    expect(inverters.json()).toMatchObject({
      created: 2,
      credentials: [{ serial: `${site}-A` }, { serial: `${site}-B` }],
    });
    const shares = [
      'national_code,installation_code,weight_w,valid_from,valid_until',
      `${code(1)},${site},5000,2026-01-01,`,
      `${code(2)},${site},5000,2026-01-01,2026-07-01`,
    ];
    expect((await importCsv('shares', shares.join('\n'))).json()).toMatchObject({ created: 2, errors: [] });
    const over = await importCsv('shares', [...shares, `${code(3)},${site},1000,2026-03-01,`].join('\n'));
    expect(over.json().errors).toEqual([
      {
        line: 4,
        column: expect.stringMatching(/national_code|weight_w/),
        reason: expect.stringMatching(/no beneficiary|above the installation/),
      },
    ]);
    expect((await importCsv('shares', shares.join('\n'))).json()).toMatchObject({ created: 0, unchanged: 2 });
  });
});
