import pg from 'pg';
import { testApp } from './testing/api';
const url = process.env.DATABASE_URL!.replace(/\/[^/?]+(\?|$)/, '/portal_bench$1');
const app = await testApp({ DATABASE_URL: url });
for (const path of ['/portal', '/healthz', '/portal/assets/vazirmatn-bold.woff2']) {
  await app.inject({ method: 'GET', url: path });
  const t = performance.now();
  for (let i = 0; i < 300; i++) await app.inject({ method: 'GET', url: path });
  console.log(path, 'ms/req', ((performance.now() - t) / 300).toFixed(2));
}
const c = new pg.Pool({ connectionString: url, max: 2 });
const t = performance.now();
for (let i = 0; i < 300; i++) await c.query('SELECT 1');
console.log('SELECT 1 ms', ((performance.now() - t) / 300).toFixed(2));
await c.end();
await app.close();
