// npm run bench:api — a full-size program (21,000 beneficiaries, 7,000 installations, 21,000
// shares) in the real PostgreSQL; the API as its own process; an open-loop load at a fixed rate
// (requests are sent on schedule whether or not earlier ones have answered) against a
// beneficiary's own list of monthly statements (/me/statements, a year of them each) and /progress;
// then staff sign-in, closed-loop (each one is a scrypt at OWASP's cost, ~0.5 s of a core).
import { createHash, randomBytes } from 'node:crypto';
import { hashSecret } from '../../lib/passwords';
import { withPg } from '../../testing/services';
import { openLoop, seedProgram, startApi, stopApi } from './program';

const RATE = Number(process.env.BENCH_API_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 20);
const TOKENS = 2000;
const PORT = 28_181 + Number(process.env.SOLAR_PORT_OFFSET ?? 0); // side by side with other checkouts
const SIGN_INS = Number(process.env.BENCH_API_SIGN_INS ?? 40);
const SIGN_IN_CONCURRENCY = 4; // libuv's thread pool, where scrypt runs
const BENCH_PASSWORD = 'bench-operator-password';

/** Sign-ins of the bench operator, `SIGN_IN_CONCURRENCY` at a time: latency and sign-ins per second. */
async function signIns() {
  const latencies: number[] = [];
  let errors = 0;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: SIGN_IN_CONCURRENCY }, async () => {
      while (next++ < SIGN_INS) {
        const t = performance.now();
        const res = await fetch(`http://127.0.0.1:${PORT}/auth/staff/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ username: 'bench-operator', password: BENCH_PASSWORD }),
        });
        await res.arrayBuffer();
        if (res.status !== 200) errors += 1;
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]!);
  console.log(
    'BENCH',
    JSON.stringify({
      name: 'api-sign-in',
      concurrency: SIGN_IN_CONCURRENCY,
      sign_ins: latencies.length,
      errors,
      sign_ins_per_s: Math.round((latencies.length / elapsed) * 10) / 10,
      p50_ms: pct(0.5),
      p99_ms: pct(0.99),
      max_ms: pct(1),
    }),
  );
}

const operatorToken = randomBytes(24).toString('base64url');
const { beneficiaryTokens } = await withPg(async (c) => {
  const seeded = await seedProgram(c, TOKENS);
  await c.query(
    `INSERT INTO users (username, password_hash, role) VALUES ('bench-operator', $1, 'OPERATOR')
     ON CONFLICT (username) DO UPDATE SET password_hash = EXCLUDED.password_hash`,
    [await hashSecret(BENCH_PASSWORD)],
  );
  await c.query(
    `INSERT INTO sessions (token_hash, user_id, expires_at) SELECT $1, id, now() + interval '1 day' FROM users WHERE username = 'bench-operator'`,
    [createHash('sha256').update(operatorToken).digest('hex')],
  );
  return seeded;
});
// The per-client sign-in rate limit would refuse the sign-in measurement (one client).
// Sign-ins measure what hashing sustains 4 at once, as before the sign-in queue: the queue's own
// defaults (one check at a time on two cores, 503 beyond a second's wait) are bench:payday's to measure.
const server = await startApi(PORT, {
  API_SIGN_IN_RATE_LIMIT: '10000',
  API_SIGN_IN_CONCURRENCY: String(SIGN_IN_CONCURRENCY),
  API_SIGN_IN_MAX_WAIT_MS: '60000',
});
try {
  // Each read is warmed up right before it is measured (not a result): JIT, pools, the session
  // cache (whose entries expire after 5-10 s, so a warm-up of another path leaves it cold).
  for (const [name, path, tokens] of [
    ['api-me-statements', '/me/statements', beneficiaryTokens],
    ['api-me-shares', '/me/shares', beneficiaryTokens],
    ['api-progress', '/progress', [operatorToken]],
  ] as const) {
    const load = (n: string, seconds: number) =>
      openLoop({
        name: n,
        url: () => `http://127.0.0.1:${PORT}${path}`,
        headers: (k) => ({ authorization: `Bearer ${tokens[k % tokens.length]}` }),
        rate: RATE,
        seconds,
      });
    await load('api-warmup', 5);
    await load(name, SECONDS);
  }
  await signIns();
} finally {
  await stopApi(server);
}
process.exit(0);
