// The InfluxDB client behind a reverse proxy that serves InfluxDB under a path (a common
// deployment), in front of the real InfluxDB: the path prefix is kept on every endpoint and the
// credentials travel in the Authorization header, never in the URL (where access logs keep them).
import { createServer, request as forward, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InfluxClient } from '../influx/client';
import { freshInfluxDatabase } from '../../testing/services';

const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
let upstream: URL;
let upstreamAuthorization = '';
const proxy = createServer((req, res) => {
  seen.push({ url: req.url ?? '', headers: req.headers });
  if (!req.url?.startsWith('/influx/')) {
    res.writeHead(404).end('outside the proxied path');
    return;
  }
  // The proxy holds its own InfluxDB credentials (the test profile's admin): the client's are checked below.
  const { authorization: _, host: __, ...headers } = req.headers;
  headers.authorization = upstreamAuthorization;
  const upstreamRequest = forward(
    {
      host: upstream.hostname,
      port: upstream.port,
      path: req.url.slice('/influx'.length),
      method: req.method,
      headers,
    },
    (upstreamResponse) => {
      res.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
      upstreamResponse.pipe(res);
    },
  );
  req.pipe(upstreamRequest);
});

let client: InfluxClient;
beforeAll(async () => {
  const { config } = await freshInfluxDatabase('test_client_proxy');
  upstream = new URL(config.url);
  upstreamAuthorization = `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const { port } = proxy.address() as AddressInfo;
  client = new InfluxClient({
    ...config,
    url: `http://127.0.0.1:${port}/influx/`,
    username: 'reader',
    password: 's3cret:with colon',
  });
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

describe('InfluxDB client', () => {
  it('keeps the base URL path and sends credentials in the Authorization header only', async () => {
    expect(await client.ping()).toBe(true);
    const at = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    await client.write(`client_test,serial=P1 value=1 ${at}000000`);
    expect(await client.rows('SELECT "value" FROM "client_test"')).toEqual([{ time: at, value: 1 }]);
    expect(seen.map((r) => new URL(r.url, 'http://x').pathname)).toEqual([
      '/influx/ping',
      '/influx/write',
      '/influx/query',
    ]);
    const basic = `Basic ${Buffer.from('reader:s3cret:with colon').toString('base64')}`;
    for (const request of seen) {
      expect(request.headers.authorization).toBe(basic);
      expect(request.url).not.toMatch(/[?&][up]=|s3cret/);
    }
  });
});
