// "Never overlap" and "at most" rules hold for requests in parallel, not only one at a time: each
// rule is a database constraint (or a lock the rule is checked under), and each is raced here by
// several requests at once. Billing months (one run at a time, closed once, one payout batch, paid
// once) are raced in billing/test/ledger.test.ts, on a ledger of their own.
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseAlert, readAlertsConfig } from '../../alerts/index';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import { bearer, staffToken, testApp } from '../../testing/api';
import { databaseUrl, registerFleet, withPg } from '../../testing/services';

const run = `${process.pid}`;
const PARALLEL = 6;
let app: FastifyInstance;
let operator: Record<string, string>;
let installation = { id: 0, code: '' };
const beneficiaries: number[] = [];

beforeAll(async () => {
  app = await testApp();
  operator = bearer(await staffToken(app, `race-op-${run}`, 'OPERATOR'));
  const [serial] = await registerFleet(`RACE${run}-`, 1, { perInstallation: 1 }); // 5 kWp
  installation = await withPg(async (c) => {
    const { rows } = await c.query<{ id: number; code: string }>(
      'SELECT i.id, i.code FROM installations i JOIN inverters v ON v.installation_id = i.id WHERE v.serial = $1',
      [serial],
    );
    return rows[0]!;
  });
  for (let k = 0; k < PARALLEL; k++) {
    const seed = 930_000 + (process.pid % 5000) * 10 + k;
    const r = await app.inject({
      method: 'POST',
      url: '/beneficiaries',
      headers: operator,
      payload: {
        nationalCode: nationalCodeFor(seed),
        fullName: `Race ${k}`,
        sheba: shebaFor(seed),
        province: 'yazd',
        targetGroup: 'OTHER',
      },
    });
    expect(r.statusCode, r.body).toBe(201);
    beneficiaries.push(r.json().id);
  }
}, 120_000);
afterAll(async () => {
  await app?.close();
});

const race = <T>(n: number, make: (k: number) => Promise<T>) =>
  Promise.all(Array.from({ length: n }, (_, k) => make(k)));

describe('invariants under parallel requests', () => {
  it('settlement periods of one installation never overlap', async () => {
    const header = 'installation_code,period_start,period_end,metered_kwh,amount_rials,reference,paid_on';
    const answers = await race(PARALLEL, (k) =>
      app.inject({
        method: 'POST',
        url: '/settlements/imports',
        headers: { ...operator, 'content-type': 'text/csv' },
        // Each starts on another day of Mordad 1405 and lasts two months: they all overlap.
        payload:
          `${header}\n${installation.code},1405/05/${String(k + 1).padStart(2, '0')},1405/07/` +
          `${String(k + 1).padStart(2, '0')},1000,30000000,RACE-${run}-${k},`,
      }),
    );
    expect(answers.filter((r) => r.statusCode === 200 && r.json().created === 1)).toHaveLength(1);
    for (const r of answers.filter((a) => a.statusCode !== 200)) {
      expect(r.statusCode).toBe(422);
      expect(r.json().errors[0].reason).toMatch(/overlaps the settlement already imported/);
    }
    const stored = await withPg((c) =>
      c.query('SELECT count(*)::int AS n FROM utility_settlements WHERE installation_id = $1', [installation.id]),
    );
    expect(stored.rows[0].n).toBe(1);
    // The database holds the rule itself, whoever writes.
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: 1 });
    try {
      await expect(
        pool.query(
          `INSERT INTO utility_settlements (installation_id, period_from, period_until, metered_wh, amount_rials, reference)
           VALUES ($1, '2026-08-01', '2026-08-10', 1, 1, 'RACE-SQL')`,
          [installation.id],
        ),
      ).rejects.toThrow(/utility_settlements_no_overlap/);
    } finally {
      await pool.end();
    }
  });

  it("a beneficiary's shares in one installation never overlap", async () => {
    const answers = await race(PARALLEL, (k) =>
      app.inject({
        method: 'POST',
        url: '/shares',
        headers: operator,
        payload: {
          beneficiaryId: beneficiaries[0],
          installationId: installation.id,
          weightW: 100,
          validFrom: `2026-0${k + 1}-01`,
        },
      }),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, ...Array(PARALLEL - 1).fill(409)]);
  });

  it("shares never exceed the installation's capacity on any day", async () => {
    // 5,000 W of capacity, 100 W already held by the share above: two of 2,000 W fit, not six.
    const answers = await race(PARALLEL, (k) =>
      app.inject({
        method: 'POST',
        url: '/shares',
        headers: operator,
        payload: {
          beneficiaryId: beneficiaries[k],
          installationId: installation.id,
          weightW: 2000,
          validFrom: '2027-01-01',
        },
      }),
    );
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(2);
    const held = await withPg((c) =>
      c.query<{ w: string }>(
        `SELECT COALESCE(sum(weight_w), 0)::text AS w FROM shares WHERE installation_id = $1 AND valid_from <= '2027-01-01'
           AND (valid_until IS NULL OR valid_until > '2027-01-01')`,
        [installation.id],
      ),
    );
    expect(Number(held.rows[0]!.w)).toBeLessThanOrEqual(5000);
    expect(Number(held.rows[0]!.w)).toBe(4100);
  });

  it("a contract's tariff periods never overlap", async () => {
    const contract = await withPg(async (c) => {
      const { rows } = await c.query<{ id: number }>(
        `INSERT INTO contracts (installation_id, reference, kind, start_date) VALUES ($1, $2, 'SUPPORT', '2025-01-01') RETURNING id`,
        [installation.id, `RACE-${run}`],
      );
      return rows[0]!.id;
    });
    const answers = await race(PARALLEL, (k) =>
      app.inject({
        method: 'POST',
        url: `/contracts/${contract}/tariffs`,
        headers: operator,
        payload: { effectiveFrom: `2025-0${k + 1}-15`, rialPerKwh: 30_000 + k },
      }),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, ...Array(PARALLEL - 1).fill(409)]);
  });

  it('at most one contract of an installation starts on a day', async () => {
    // A later contract replaces an earlier one from its start: two from one day left billing to pick by id.
    const answers = await race(PARALLEL, (k) =>
      app.inject({
        method: 'POST',
        url: '/contracts',
        headers: operator,
        payload: {
          installationId: installation.id,
          reference: `RACE-C-${run}-${k}`,
          kind: 'ORDINARY',
          startDate: '2026-03-21',
          tariffs: [{ effectiveFrom: '2026-03-21', rialPerKwh: 40_000 + k }],
        },
      }),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, ...Array(PARALLEL - 1).fill(409)]);
    for (const r of answers.filter((a) => a.statusCode === 409))
      expect(r.json()).toMatchObject({ field: 'startDate', message: expect.stringMatching(/starting on this day/) });
  });

  it('a loan reference is taken once', async () => {
    const answers = await race(PARALLEL, () =>
      app.inject({
        method: 'POST',
        url: '/loans',
        headers: operator,
        payload: {
          installationId: installation.id,
          reference: `RACE-L-${run}`,
          principalRials: '12000000',
          installmentRials: '1000000',
          installments: 12,
          firstDueMonth: '1405-01',
        },
      }),
    );
    expect(answers.map((r) => r.statusCode).sort()).toEqual([201, ...Array(PARALLEL - 1).fill(409)]);
    const stored = await withPg((c) =>
      c.query('SELECT count(*)::int AS n FROM loans WHERE reference = $1', [`RACE-L-${run}`]),
    );
    expect(stored.rows[0].n).toBe(1);
  });

  it('a guardian is one person, linked once to each beneficiary', async () => {
    const guardian = (n: number) => ({
      nationalCode: nationalCodeFor(600_000_000 + ((Date.now() + n) % 300_000_000)), // new people each run
      fullName: `Race guardian ${n}`,
      relation: 'CARER',
    });
    // One new guardian for six beneficiaries at once: six links to one person.
    const carer = guardian(0);
    const forEach = await race(PARALLEL, (k) =>
      app.inject({
        method: 'POST',
        url: `/beneficiaries/${beneficiaries[k]}/representatives`,
        headers: operator,
        payload: carer,
      }),
    );
    expect(forEach.map((r) => r.statusCode)).toEqual(Array(PARALLEL).fill(201));
    // Another for one beneficiary six times at once: one link.
    const twice = guardian(1);
    const forOne = await race(PARALLEL, () =>
      app.inject({
        method: 'POST',
        url: `/beneficiaries/${beneficiaries[0]}/representatives`,
        headers: operator,
        payload: twice,
      }),
    );
    expect(forOne.map((r) => r.statusCode).sort()).toEqual([201, ...Array(PARALLEL - 1).fill(409)]);
    for (const r of forOne.filter((a) => a.statusCode === 409)) expect(r.json().field).toBe('nationalCode');
    const links = await withPg((c) =>
      c.query<{ code: string; people: number; links: number }>(
        `SELECT p.national_code AS code, count(DISTINCT p.id)::int AS people, count(*)::int AS links
           FROM representatives p JOIN representations r ON r.representative_id = p.id
          WHERE p.national_code = ANY($1) GROUP BY p.national_code ORDER BY links DESC`,
        [[carer.nationalCode, twice.nationalCode]],
      ),
    );
    expect(links.rows).toEqual([
      { code: carer.nationalCode, people: 1, links: PARALLEL },
      { code: twice.nationalCode, people: 1, links: 1 },
    ]);
  });

  it('at most one active alert per condition', async () => {
    const pool = new pg.Pool({ connectionString: databaseUrl(), max: PARALLEL });
    try {
      const config = readAlertsConfig(process.env);
      await race(PARALLEL, () =>
        raiseAlert(pool, config, {
          rule: 'METER_SHORTFALL',
          installationId: installation.id,
          cause: 'export_meter',
          severity: 'MINOR',
          summary: 'raced',
          lostKwhPerDay: 1,
          actor: 'settlements',
        }).catch((error: Error) => error),
      );
      const active = await pool.query(
        `SELECT count(*)::int AS n FROM alerts WHERE installation_id = $1 AND state IN ('OPEN', 'ACKNOWLEDGED')`,
        [installation.id],
      );
      expect(active.rows[0].n).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
