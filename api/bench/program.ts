// Shared by the API and portal benchmarks: a full-size program seeded into PostgreSQL (21,000
// beneficiaries, 7,000 installations, 21,000 shares, a year of statements each, beneficiary
// sessions), the API as its own process, and an open-loop load generator.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { Agent, request } from 'undici';
import { nationalCodeFor } from '../../lib/identifiers/validate';
import { inTransaction } from '../../lib/transaction';
import { waitFor } from '../../testing/services';

export const INSTALLATIONS = 7000;
export const BENEFICIARIES = 21_000;
export const STATEMENT_MONTHS = [
  '1404-10',
  '1404-11',
  '1404-12',
  '1405-01',
  '1405-02',
  '1405-03',
  '1405-04',
  '1405-05',
  '1405-06',
  '1405-07',
  '1405-08',
  '1405-09',
];
export const progress = (m: string) => process.stderr.write(`${m}\n`);
const hash = (t: string) => createHash('sha256').update(t).digest('hex');

/** The national code of the seeded program's `i`-th beneficiary. */
export const benchNationalCode = (i: number) => nationalCodeFor(700_000_000 + i);

/**
 * The program, idempotently; returns `tokens` beneficiary session tokens (valid for a day), for the
 * API's bearer tokens or the portal's cookie (a session is only ever one of them).
 */
export async function seedProgram(
  c: pg.ClientBase,
  tokens: number,
  usedAs: 'bearer' | 'portal' = 'bearer',
): Promise<{ beneficiaryTokens: string[] }> {
  const started = Date.now();
  const codes = Array.from({ length: BENEFICIARIES }, (_, i) => benchNationalCode(i));
  const beneficiaryTokens = Array.from({ length: tokens }, () => randomBytes(24).toString('base64url'));
  await inTransaction(c, async () => {
    await c.query(
      `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT 'BAPI-' || lpad(g::text, 5, '0'), 'bench plant', p.id, p.latitude, p.longitude, 15, 15, 'COMMISSIONED', now()
    FROM generate_series(0, $1::int - 1) g JOIN provinces p ON p.id = 1 + g % 31 ON CONFLICT (code) DO NOTHING`,
      [INSTALLATIONS],
    );
    await c.query(
      `INSERT INTO beneficiaries (national_code, full_name, province_id, target_group, updated_at)
    SELECT code, 'بهره‌بردار ' || n, 1 + n % 31, 'OTHER', now() FROM unnest($1::text[]) WITH ORDINALITY AS t(code, n)
    ON CONFLICT (national_code) DO NOTHING`,
      [codes],
    );
    await c.query(
      `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at)
    SELECT b.id, i.id, 5000, DATE '2026-01-01', now()
    FROM unnest($1::text[]) WITH ORDINALITY AS t(code, n)
    JOIN beneficiaries b ON b.national_code = t.code
    JOIN installations i ON i.code = 'BAPI-' || lpad(((t.n - 1) / 3)::text, 5, '0')
    WHERE NOT EXISTS (SELECT 1 FROM shares s WHERE s.beneficiary_id = b.id)`,
      [codes],
    );
    // A year of statements per person (draft months, so they stay re-runnable): the portal's list.
    await c.query(
      `INSERT INTO billing_months (month, status, computed_at, digest, installations, beneficiaries, energy_wh,
        gross_rials, net_rials, pool_rials, payable_rials, incomplete)
    SELECT m, 'DRAFT', now(), repeat('0', 64), 0, 0, 0, 0, 0, 0, 0, 0 FROM unnest($1::text[]) AS m ON CONFLICT (month) DO NOTHING`,
      [STATEMENT_MONTHS],
    );
    await c.query(
      `INSERT INTO statements (month, beneficiary_id, earned_rials, carried_in_rials, payable_rials, carried_out_rials)
    SELECT m, b.id, 4000000 + b.id % 1000, 0, 4000000 + b.id % 1000, 0 FROM unnest($1::text[]) AS m, beneficiaries b
     WHERE b.national_code = ANY($2::text[]) ON CONFLICT DO NOTHING`,
      [STATEMENT_MONTHS, codes],
    );
    await c.query(
      `INSERT INTO sessions (token_hash, beneficiary_id, expires_at, portal)
    SELECT t.h, b.id, now() + interval '1 day', $3 FROM unnest($1::text[]) WITH ORDINALITY AS t(h, n)
    JOIN beneficiaries b ON b.national_code = ($2::text[])[t.n]`,
      [beneficiaryTokens.map(hash), codes.slice(0, tokens), usedAs === 'portal'],
    );
  });
  const counts = await c.query(
    `SELECT (SELECT count(*) FROM beneficiaries WHERE full_name LIKE 'بهره‌بردار%')::int AS b, (SELECT count(*) ` +
      `FROM installations WHERE code LIKE 'BAPI-%')::int AS i`,
  );
  progress(
    `seeded ${counts.rows[0].b} beneficiaries, ${counts.rows[0].i} installations, 3 shares per installation, 12 ` +
      `statements per person, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
  return { beneficiaryTokens };
}

/**
 * What the portal's pages read, for the seeded program (a fresh database): each installation's
 * bill (with its tariff segment) and each share's statement line, every month; eleven months
 * closed and paid, the running one a draft (the home page's estimate).
 */
export async function seedStatementPages(c: pg.ClientBase): Promise<void> {
  const started = Date.now();
  await c.query(
    `INSERT INTO installation_bills (month, installation_id, energy_wh, gross_rials, adjustment_rials, income_rials,
      loan_rials, fee_rials, net_rials, pool_rials, balance_out_rials, incomplete, detail)
     SELECT m, i.id, 2250000, 67500000, 0, 67500000, 2000000, 1350000, 64150000, 0, 0, false,
            jsonb_build_object('segments', jsonb_build_array(jsonb_build_object('fromDate', '2026-01-01', 'toDate',
              '2026-01-30', 'wh', 2250000, 'rials', '67500000', 'rialPerKwh', 30000, 'percent', 100, 'contractYear', 1)), 'adjustments', '[]'::jsonb)
       FROM unnest($1::text[]) AS m, installations i WHERE i.code LIKE 'BAPI-%'`,
    [STATEMENT_MONTHS],
  );
  await c.query(
    `INSERT INTO statement_lines (month, beneficiary_id, share_id, installation_id, weight_w, active_days, rials)
     SELECT s.month, s.beneficiary_id, sh.id, sh.installation_id, sh.weight_w, 30, s.earned_rials
       FROM statements s JOIN shares sh ON sh.beneficiary_id = s.beneficiary_id`,
  );
  const closed = STATEMENT_MONTHS.slice(0, -1);
  await c.query(
    `UPDATE billing_months SET status = 'CLOSED', closed_at = now(), closed_by = 'bench' WHERE month = ANY($1)`,
    [closed],
  );
  await c.query(
    `INSERT INTO payout_batches (month, reference, rows, total_rials, sha256, created_by) SELECT m, 'SOLAR-' || ` +
      `m, 0, 0, repeat('0', 64), 'bench' FROM unnest($1::text[]) m`,
    [closed],
  );
  await c.query(`UPDATE payout_batches SET status = 'PAID', paid_at = now(), paid_by = 'bench'`);
  await c.query(`UPDATE billing_months SET status = 'PAID' WHERE month = ANY($1)`, [closed]);
  await c.query('ANALYZE');
  progress(`statement lines, installation bills and payouts in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The API as its own process (as production runs it), resolved once /healthz answers (stopped if it never does). */
export async function startApi(port: number, env: Record<string, string | undefined> = {}): Promise<ChildProcess> {
  const server = spawn(process.execPath, ['--max-semi-space-size=64', '--import', 'tsx', 'api/src/server.ts'], {
    env: { ...process.env, API_PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  try {
    await waitFor(
      'the API',
      () =>
        fetch(`http://127.0.0.1:${port}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      (ok) => ok,
      120_000, // a busy machine compiles and starts it slowly
      200,
    );
  } catch (error) {
    server.kill('SIGTERM'); // not left running after the benchmark has failed
    throw error;
  }
  return server;
}

export async function stopApi(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
}

/**
 * Open-loop load: `rate` requests/s for `seconds`, sent on schedule whether or not earlier ones have
 * answered; latency is timed from the scheduled send, so queueing counts. Prints one BENCH line.
 */
export async function openLoop(options: {
  name: string;
  url: (k: number) => string;
  headers: (k: number) => Record<string, string>;
  rate: number;
  seconds: number;
}): Promise<void> {
  const { name, rate, seconds } = options;
  const dispatcher = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = rate * seconds;
  // Little garbage in the generator itself: its own GC pauses would be counted as server latency.
  const latencies = new Float64Array(total);
  let answered = 0;
  let errors = 0;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const started = performance.now();
  for (let k = 0; k < total; k++) {
    const due = started + (k * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const start = Math.min(due, performance.now()); // a late send counts its lateness; an early one is timed from when it left
    request(options.url(k), { dispatcher, headers: options.headers(k) })
      .then(
        async (res) => {
          await res.body.dump();
          if (res.statusCode !== 200) errors += 1;
          latencies[k] = performance.now() - start;
        },
        () => {
          errors += 1;
          latencies[k] = performance.now() - start;
        },
      )
      .finally(() => {
        if (++answered === total) finish();
      });
  }
  await done;
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort();
  const pct = (p: number) => Math.round(latencies[Math.min(total - 1, Math.floor(total * p))]! * 10) / 10;
  await dispatcher.close();
  console.log(
    'BENCH',
    JSON.stringify({
      name,
      target_req_per_s: rate,
      req_per_s: Math.round(total / elapsed),
      requests: total,
      errors,
      p50_ms: pct(0.5),
      p99_ms: pct(0.99),
      max_ms: pct(1),
    }),
  );
}
