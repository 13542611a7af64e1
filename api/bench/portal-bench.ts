// npm run bench:portal — the beneficiary portal's two pages people open, home and a month's
// statement, for signed-in beneficiaries at a fixed open-loop rate over the full-size program
// (21,000 people, a year of statements each with its line and installation bill; eleven months
// closed and paid, the running one a draft), the API as its own process. A cold start is measured
// on its own: the API just restarted (session cache, prepared statements and JIT empty) and loaded
// at the full rate at once.
import pg from 'pg';
import { freshPgDatabase } from '../../testing/services';
import { openLoop, STATEMENT_MONTHS, seedProgram, seedStatementPages, startApi, stopApi } from './program';

const RATE = Number(process.env.BENCH_PORTAL_RATE ?? 500);
const SECONDS = Number(process.env.BENCH_PORTAL_SECONDS ?? 20);
const TOKENS = 2000;
const PORT = 28_300 + Number(process.env.SOLAR_PORT_OFFSET ?? 0);
const STATEMENT_MONTH = STATEMENT_MONTHS[10]!;

const databaseUrl = await freshPgDatabase('portal_bench');
const client = new pg.Client({ connectionString: databaseUrl });
await client.connect();
const { beneficiaryTokens } = await seedProgram(client, TOKENS, 'portal');
await seedStatementPages(client);
await client.end();

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
