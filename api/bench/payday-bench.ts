// npm run bench:payday — the payday wave at the program's scale: the payday SMS brings a fifth of
// the 21,000 people (4,200) to the portal within ten minutes (7 a second on average, arriving at
// random), each opening the sign-in page, signing in with national code and PIN (a whole scrypt at
// OWASP's cost), then home and the month's statement. The full-size program (a year of statements
// each, eleven months closed and paid) is in a fresh database `payday_bench`; the API runs as its
// own process as deployed: behind a trusted proxy, so each person is their own client address for
// the per-client rate limit and lock-out, with the default sign-in queue. A person told 503 comes
// back after its Retry-After and presses again, as the page asks, until BENCH_PAYDAY_GRACE_SECONDS
// after the wave (then counted as not in by the end). BENCH_PAYDAY_REMEMBERED (a fraction, 0 by
// default) of the people kept their session on their own phone from an earlier month (docs/decisions/006)
// and open home and the statement without signing in. Prints BENCH lines: sign-in attempts
// (admitted and refused), time until each person was in, and the pages' latency.
import { availableParallelism, loadavg } from 'node:os';
import pg from 'pg';
import { Agent, request } from 'undici';
import { hashSecret, newToken, tokenHash } from '../../lib/passwords';
import { readApiConfig } from '../index';
import { sessionLifetime } from '../src/session-lifetime';
import { freshPgDatabase } from '../../testing/services';
import {
  BENEFICIARIES,
  benchNationalCode,
  progress,
  STATEMENT_MONTHS,
  seedProgram,
  seedStatementPages,
  startApi,
  stopApi,
} from './program';

const PEOPLE = Number(process.env.BENCH_PAYDAY_PEOPLE ?? BENEFICIARIES / 5);
const SECONDS = Number(process.env.BENCH_PAYDAY_SECONDS ?? 600);
// After the wave, how long people still outside keep coming back before the measurement ends.
const GRACE_SECONDS = Number(process.env.BENCH_PAYDAY_GRACE_SECONDS ?? 300);
const REMEMBERED = Number(process.env.BENCH_PAYDAY_REMEMBERED ?? 0);
if (!(REMEMBERED >= 0 && REMEMBERED <= 1)) throw new RangeError('BENCH_PAYDAY_REMEMBERED is a fraction from 0 to 1');
const PORT = 28_500 + Number(process.env.SOLAR_PORT_OFFSET ?? 0);
const PIN = '482916';
const MONTH = STATEMENT_MONTHS[10]!;
const base = `http://127.0.0.1:${PORT}`;

const databaseUrl = await freshPgDatabase('payday_bench');
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
await seedProgram(client, 0);
await seedStatementPages(client);
// Everyone's PIN, hashed once at today's cost (each check still costs a whole scrypt).
await client.query(`UPDATE beneficiaries SET pin_hash = $1 WHERE national_code = ANY($2)`, [
  await hashSecret(PIN),
  Array.from({ length: BENEFICIARIES }, (_, i) => benchNationalCode(i)),
]);
// Who kept a session from an earlier month: every person whose place in the wave falls in the
// fraction (spread through the wave, not its start), with a session as the portal makes one.
const rememberedToken = new Map<number, string>();
for (let i = 0; i < PEOPLE; i++)
  if (Math.floor((i + 1) * REMEMBERED) > Math.floor(i * REMEMBERED)) rememberedToken.set(i, newToken());
const apiConfig = readApiConfig({ ...process.env });
const lifetime = sessionLifetime('remembered', apiConfig.sessions, new Date());
await client.query(
  `INSERT INTO sessions (token_hash, beneficiary_id, portal, expires_at, sliding_days, renew_until)
   SELECT t.h, b.id, true, $3, $4, $5 FROM unnest($1::text[], $2::text[]) AS t(h, code) JOIN beneficiaries b ON b.national_code = t.code`,
  [
    [...rememberedToken.values()].map(tokenHash),
    [...rememberedToken.keys()].map(benchNationalCode),
    lifetime.expiresAt,
    lifetime.slidingDays,
    lifetime.renewUntil,
  ],
);
await client.end();

const dispatcher = new Agent({ connections: 512, pipelining: 1, headersTimeout: 120_000, bodyTimeout: 120_000 });
const setCookie = (headers: Record<string, string | string[] | undefined>, name: string) =>
  ([headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`${name}=`)) ?? '').split(';')[0]!;

interface Timed {
  ms: number;
  status: number;
}
const timings = { signInPage: [] as Timed[], attempts: [] as Timed[], home: [] as Timed[], statement: [] as Timed[] };
const retryAfters: number[] = [];
const inAfterMs: number[] = [];
const attemptsPerPerson: number[] = [];
let failures = 0; // network errors and timeouts
let gaveUp = 0; // still told to come back when the measurement ended
let deadline = Number.POSITIVE_INFINITY;

async function timed(list: Timed[], path: string, options: Parameters<typeof request>[1]) {
  const started = performance.now();
  try {
    const res = await request(`${base}${path}`, { dispatcher, ...options });
    await res.body.dump();
    list.push({ ms: performance.now() - started, status: res.statusCode });
    return res;
  } catch {
    failures += 1;
    list.push({ ms: performance.now() - started, status: 0 });
    return null;
  }
}

/** One person, from opening the sign-in page to their statement. */
async function person(i: number): Promise<void> {
  const arrived = performance.now();
  // Each person is their own client (the proxy's X-Forwarded-For), as on payday.
  const forwarded = { 'x-forwarded-for': `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` };
  const kept = rememberedToken.get(i);
  if (kept) {
    // On their own phone and signed in since an earlier month: straight to their pages.
    await timed(timings.home, '/portal/home', { headers: { ...forwarded, cookie: `portal_session=${kept}` } });
    await timed(timings.statement, `/portal/months/${MONTH}`, {
      headers: { ...forwarded, cookie: `portal_session=${kept}` },
    });
    return;
  }
  const page = await timed(timings.signInPage, '/portal', { headers: forwarded });
  if (!page) return;
  const csrf = setCookie(page.headers, 'portal_csrf');
  const form = new URLSearchParams({ nationalCode: benchNationalCode(i), pin: PIN, csrf: csrf.split('=')[1]! });
  let session = '';
  let attempts = 0;
  while (!session) {
    attempts += 1;
    const res = await timed(timings.attempts, '/portal/sign-in', {
      method: 'POST',
      headers: { ...forwarded, cookie: csrf, 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    if (!res) return;
    if (res.statusCode === 303) session = setCookie(res.headers, 'portal_session');
    else if (res.statusCode === 503 || res.statusCode === 429) {
      const seconds = Number(res.headers['retry-after'] ?? 60);
      retryAfters.push(seconds);
      if (performance.now() + seconds * 1000 > deadline) {
        gaveUp += 1;
        return;
      }
      await new Promise((r) => setTimeout(r, seconds * 1000));
    } else return;
  }
  attemptsPerPerson.push(attempts);
  inAfterMs.push(performance.now() - arrived);
  await timed(timings.home, '/portal/home', { headers: { ...forwarded, cookie: session } });
  await timed(timings.statement, `/portal/months/${MONTH}`, { headers: { ...forwarded, cookie: session } });
}

const pct = (values: number[], p: number) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!);
};
const latency = (list: Timed[]) => {
  const ms = list.map((t) => t.ms);
  return { p50_ms: pct(ms, 0.5), p99_ms: pct(ms, 0.99), max_ms: pct(ms, 1) };
};
const bench = (line: Record<string, unknown>) => console.log(`BENCH ${JSON.stringify(line)}`);

const server = await startApi(PORT, { DATABASE_URL: databaseUrl, API_TRUSTED_PROXIES: '127.0.0.1' });
try {
  // Warm-up (not measured): a running API has its JIT, pools and prepared statements; people past the wave's.
  for (let i = BENEFICIARIES - 10; i < BENEFICIARIES; i++) await person(i);
  for (const list of Object.values(timings)) list.length = 0;
  for (const list of [inAfterMs, attemptsPerPerson, retryAfters]) list.length = 0;
  failures = 0;

  const load = [loadavg()[0]!];
  const sampler = setInterval(() => load.push(loadavg()[0]!), 10_000);
  progress(
    `payday: ${PEOPLE} people over ${SECONDS} s (${(PEOPLE / SECONDS).toFixed(1)}/s on average), ${rememberedToken.size} still signed in on their phone`,
  );
  const started = performance.now();
  deadline = started + (SECONDS + GRACE_SECONDS) * 1000;
  const people: Promise<void>[] = [];
  // Arrivals at random (a Poisson process), as people read an SMS when they read it.
  for (let i = 0, due = 0; i < PEOPLE; i++) {
    due += (-Math.log(1 - Math.random()) * SECONDS * 1000) / PEOPLE;
    const wait = started + due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    people.push(person(i));
    if (i % 500 === 499) progress(`  ${i + 1} arrived, ${inAfterMs.length} signed in`);
  }
  const arrivedAfter = (performance.now() - started) / 1000;
  await Promise.all(people);
  const elapsed = (performance.now() - started) / 1000;
  clearInterval(sampler);

  const attempts = timings.attempts;
  const admitted = attempts.filter((t) => t.status !== 503 && t.status !== 429 && t.status !== 0);
  const all = Object.values(timings).flat();
  const common = {
    people: PEOPLE,
    remembered: rememberedToken.size,
    arrivals_per_s: Math.round((PEOPLE / arrivedAfter) * 10) / 10,
    cores: availableParallelism(),
    // The API's sign-in queue as configured (its defaults unless set in the environment).
    sign_in_concurrency: apiConfig.signInConcurrency,
    sign_in_max_wait_ms: apiConfig.signInMaxWaitMs,
    load_average: `${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}`,
  };
  bench({
    name: 'payday-sign-in',
    ...common,
    attempts: attempts.length,
    signed_in: inAfterMs.length,
    not_in_by_end: gaveUp,
    grace_s: GRACE_SECONDS,
    signed_in_per_s: Math.round((inAfterMs.length / elapsed) * 10) / 10,
    refused_503: attempts.filter((t) => t.status === 503).length,
    refused_429: attempts.filter((t) => t.status === 429).length,
    other_5xx: all.filter((t) => t.status >= 500 && t.status !== 503).length,
    failures,
    ...latency(admitted),
  });
  bench({
    name: 'payday-sign-in-refused',
    refused: attempts.length - admitted.length,
    ...latency(attempts.filter((t) => t.status === 503)),
    retry_after_p50_s: pct(retryAfters, 0.5),
    retry_after_max_s: pct(retryAfters, 1),
  });
  bench({
    name: 'payday-signed-in-after',
    people: inAfterMs.length,
    p50_s: (pct(inAfterMs, 0.5) ?? 0) / 1000,
    p99_s: (pct(inAfterMs, 0.99) ?? 0) / 1000,
    max_s: (pct(inAfterMs, 1) ?? 0) / 1000,
    attempts_p50: pct(attemptsPerPerson, 0.5),
    attempts_max: pct(attemptsPerPerson, 1),
    wave_s: Math.round(elapsed),
  });
  for (const [name, list] of [
    ['payday-page-sign-in', timings.signInPage],
    ['payday-page-home', timings.home],
    ['payday-page-statement', timings.statement],
  ] as const)
    bench({ name, requests: list.length, errors: list.filter((t) => t.status !== 200).length, ...latency(list) });
} finally {
  await stopApi(server);
  await dispatcher.close();
}
process.exit(0);
