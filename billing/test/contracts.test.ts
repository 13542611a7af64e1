// Contracts in force during a month, read from the real PostgreSQL: a contract replaced mid-month
// leaves both in force (each day priced by its own), a later one is not yet, an earlier one no longer.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshPgDatabase } from '../../testing/services';
import { priceEnergy } from '../src/core/price-energy';
import { monthDays } from '../../lib/program/solar-hijri';
import { loadContracts } from '../src/program-snapshot';

const DAYS = monthDays('1405-06');
let pool: pg.Pool;

beforeAll(async () => {
  pool = new pg.Pool({ connectionString: await freshPgDatabase('billing_contracts_test'), max: 2 });
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
      SELECT 1, 'ROOF', 'roof', p.id, 31.9, 54.4, 5, 5, 'COMMISSIONED', now() FROM provinces p WHERE p.code = 'yazd';
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES
      (1, 1, 'C-2020', 'SUPPORT', '2020-01-01'), (2, 1, 'C-OLD', 'SUPPORT', '2024-01-01'),
      (3, 1, 'C-NEW', 'SUPPORT', '${DAYS[15]!.date}'), (4, 1, 'C-NEXT', 'SUPPORT', '2030-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES
      (1, '2020-01-01', 1), (2, '2024-01-01', 30000), (3, '${DAYS[15]!.date}', 38500), (4, '2030-01-01', 1);`);
});

afterAll(async () => {
  await pool?.end();
});

describe('loadContracts', () => {
  it('gives the contracts in force on some day of the month, in start order', async () => {
    const db = await pool.connect();
    const contracts = (await loadContracts(db, DAYS[0]!.date, DAYS.at(-1)!.date).finally(() => db.release())).get(1)!;
    expect(contracts.map((c) => c.reference)).toEqual(['C-OLD', 'C-NEW']);
    const priced = priceEnergy(
      DAYS.map((d) => ({ date: d.date, wh: 10_000 })),
      contracts,
      [],
    );
    expect(priced.unpricedWh).toBe(0);
    expect(priced.segments.map((s) => [s.contract, s.rialPerKwh])).toEqual([
      ['C-OLD', 30_000],
      ['C-NEW', 38_500],
    ]);
  });
});
