// npm run bench:portal — the beneficiary portal's two pages people open, home and a month's
// statement, for signed-in beneficiaries at a fixed open-loop rate over the full-size program
// (21,000 people, a year of statements each with its line and installation bill; eleven months
// closed and paid, the running one a draft), the API as its own process. A cold start is measured
// on its own: the API just restarted (session cache, prepared statements and JIT empty) and loaded
// at the full rate at once.
import pg from 'pg';
import { freshPgDatabase } from '../../testing/services';
import { openLoop, progress, STATEMENT_MONTHS, seedProgram, startApi, stopApi } from './program';

const RATE = Number(process.env.BENCH_PORTAL_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_PORTAL_SECONDS ?? 20);
const TOKENS = 2000;
const PORT = 28_300 + Number(process.env.SOLAR_PORT_OFFSET ?? 0);
const STATEMENT_MONTH = STATEMENT_MONTHS[10]!;

const databaseUrl = await freshPgDatabase('portal_bench');
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
const { beneficiaryTokens } = await seedProgram(client, TOKENS);
const started = Date.now();
// What a statement page reads: each installation's bill (with its tariff segment) and each share's line.
await client.query(
  `INSERT INTO installation_bills (month, installation_id, energy_wh, gross_rials, adjustment_rials, income_rials, loan_rials, fee_rials, net_rials, pool_rials, balance_out_rials, incomplete, detail)
   SELECT m, i.id, 2250000, 67500000, 0, 67500000, 2000000, 1350000, 64150000, 0, 0, false,
          jsonb_build_object('segments', jsonb_build_array(jsonb_build_object('fromDate', '2026-01-01', 'toDate', '2026-01-30', 'wh', 2250000, 'rials', '67500000', 'rialPerKwh', 30000, 'percent', 100, 'contractYear', 1)), 'adjustments', '[]'::jsonb)
     FROM unnest($1::text[]) AS m, installations i WHERE i.code LIKE 'BAPI-%'`,
  [STATEMENT_MONTHS],
);
await client.query(
  `INSERT INTO statement_lines (month, beneficiary_id, share_id, installation_id, weight_w, active_days, rials)
   SELECT s.month, s.beneficiary_id, sh.id, sh.installation_id, sh.weight_w, 30, s.earned_rials
     FROM statements s JOIN shares sh ON sh.beneficiary_id = s.beneficiary_id`,
);
// Eleven months closed and paid; the running month stays a draft (the home page's estimate).
const closed = STATEMENT_MONTHS.slice(0, -1);
await client.query(
  `UPDATE billing_months SET status = 'CLOSED', closed_at = now(), closed_by = 'bench' WHERE month = ANY($1)`,
  [closed],
);
await client.query(
  `INSERT INTO payout_batches (month, reference, rows, total_rials, sha256, created_by) SELECT m, 'SOLAR-' || m, 0, 0, repeat('0', 64), 'bench' FROM unnest($1::text[]) m`,
  [closed],
);
await client.query(`UPDATE payout_batches SET status = 'PAID', paid_at = now(), paid_by = 'bench'`);
await client.query(`UPDATE billing_months SET status = 'PAID' WHERE month = ANY($1)`, [closed]);
await client.query('ANALYZE');
await client.end();
progress(`statement lines, installation bills and payouts in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const page = (name: string, path: string, seconds = SECONDS) =>
  openLoop({
    name,
    url: () => `http://127.0.0.1:${PORT}${path}`,
    headers: (k) => ({ cookie: `portal_session=${beneficiaryTokens[k % beneficiaryTokens.length]}` }),
    rate: RATE,
    seconds,
  });
const HOME = '/portal/home';
const STATEMENT = `/portal/months/${STATEMENT_MONTH}`;
const env = { DATABASE_URL: databaseUrl };

// Cold: a freshly started API at the full rate from its first request, one page per start.
for (const [name, path] of [
  ['portal-home-cold', HOME],
  ['portal-statement-cold', STATEMENT],
] as const) {
  const server = await startApi(PORT, env);
  try {
    await page(name, path);
  } finally {
    await stopApi(server);
  }
}
// Warm: each page warmed up for 5 s right before it is measured.
const server = await startApi(PORT, env);
try {
  for (const [name, path] of [
    ['portal-home', HOME],
    ['portal-statement', STATEMENT],
  ] as const) {
    await page('portal-warmup', path, 5);
    await page(name, path);
  }
} finally {
  await stopApi(server);
}
process.exit(0);
