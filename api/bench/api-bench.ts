// npm run bench:api — a full-size program (21,000 beneficiaries, 7,000 installations, 21,000
// shares) in the real PostgreSQL; the API as its own process; an open-loop load at a fixed rate
// (requests are sent on schedule whether or not earlier ones have answered) against a
// beneficiary's own list of monthly statements (/me/statements, a year of them each) and /progress.
import { createHash, randomBytes } from 'node:crypto';
import { withPg } from '../../testing/services';
import { openLoop, seedProgram, startApi, stopApi } from './program';

const RATE = Number(process.env.BENCH_API_RATE ?? 1000);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 20);
const TOKENS = 2000;
const PORT = 28_181;

const operatorToken = randomBytes(24).toString('base64url');
const { beneficiaryTokens } = await withPg(async (c) => {
  const seeded = await seedProgram(c, TOKENS);
  await c.query(
    `INSERT INTO users (username, password_hash, role) VALUES ('bench-operator', 'x', 'OPERATOR') ON CONFLICT (username) DO NOTHING`,
  );
  await c.query(
    `INSERT INTO sessions (token_hash, user_id, expires_at) SELECT $1, id, now() + interval '1 day' FROM users WHERE username = 'bench-operator'`,
    [createHash('sha256').update(operatorToken).digest('hex')],
  );
  return seeded;
});
const server = await startApi(PORT);
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
} finally {
  await stopApi(server);
}
process.exit(0);
