import { createHash } from 'node:crypto';
import pg from 'pg';
import { testApp } from './testing/api';
const url = process.env.DATABASE_URL!.replace(/\/[^/?]+(\?|$)/, '/portal_bench$1');
const c = new pg.Client({ connectionString: url });
await c.connect();
const token = 'x'.repeat(43);
await c.query(
  `INSERT INTO sessions (token_hash, beneficiary_id, expires_at) SELECT $1, min(id), now() + interval '1 day' FROM beneficiaries ON CONFLICT DO NOTHING`,
  [createHash('sha256').update(token).digest('hex')],
);
await c.end();
const app = await testApp({ DATABASE_URL: url });
for (const path of ['/portal/home', '/portal/months/1405-08', '/portal/help']) {
  const r0 = await app.inject({ method: 'GET', url: path, headers: { cookie: `portal_session=${token}` } });
  console.log(path, r0.statusCode, r0.body.length);
  const t = performance.now();
  for (let i = 0; i < 200; i++)
    await app.inject({ method: 'GET', url: path, headers: { cookie: `portal_session=${token}` } });
  console.log(path, 'ms/req', ((performance.now() - t) / 200).toFixed(2));
}
await app.close();
