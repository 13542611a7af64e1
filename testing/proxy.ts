// The profile's TLS reverse proxy as tests reach it: nginx, configured and started by setup with a
// certificate from setup's development CA, forwarding to API_PORT (ops/setup.sh). An API app that
// listens there is behind it, with the trusted-proxy setting setup wrote (API_TRUSTED_PROXIES).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { env } from './services';

export const proxyUrl = new URL(env.PROXY_URL ?? 'https://proxy-url-not-set');
export const proxyHttpUrl = new URL(env.PROXY_HTTP_URL ?? 'http://proxy-url-not-set');
/** Setup's development CA: the proxy's certificate verifies against it and nothing else. */
export const proxyCa = () => readFileSync(env.PROXY_CA_FILE ?? 'proxy-ca-file-not-set');

/**
 * Listens where nginx forwards: API_PORT, and every other port of API_PORTS (nginx spreads over
 * them) answered by the same app. Returns the app's own address and the proxy's (https).
 */
export async function listenBehindProxy(app: FastifyInstance): Promise<{ direct: string; proxied: string }> {
  await app.listen({ port: Number(env.API_PORT), host: '127.0.0.1' });
  const others = (env.API_PORTS ?? '').split(',').filter((port) => port !== '' && port !== env.API_PORT);
  const servers = await Promise.all(
    others.map(
      (port) =>
        new Promise<http.Server>((resolve, reject) => {
          const server = http.createServer((request, response) => app.server.emit('request', request, response));
          server.once('error', reject).listen(Number(port), '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  app.server.once('close', () => {
    for (const server of servers) server.close().closeAllConnections();
  });
  return { direct: `http://127.0.0.1:${env.API_PORT}`, proxied: proxyUrl.origin };
}

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}
export interface Call {
  method?: string;
  /** The client's own loopback address (its source address). */
  from?: string;
  headers?: Record<string, string>;
  body?: string;
  /** Connect over plain HTTP to this port instead of through the proxy's TLS listener. */
  plainPort?: number;
  /** Trust this CA (default: setup's development CA); null: only the system's. */
  trust?: Buffer | null;
}

/** One request through the proxy's TLS listener (or in clear to `plainPort`), from `from`. */
export function callThroughProxy(path: string, c: Call = {}): Promise<Answer> {
  const options = {
    host: '127.0.0.1',
    path,
    method: c.method ?? 'GET',
    localAddress: c.from,
    headers: { ...(c.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(c.body)) }), ...c.headers },
  };
  return new Promise((resolve, reject) => {
    const done = (r: http.IncomingMessage) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (d) => {
        body += d;
      });
      r.on('end', () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body }));
    };
    const request =
      c.plainPort === undefined
        ? https.request(
            {
              ...options,
              port: Number(proxyUrl.port),
              ca: c.trust === undefined ? proxyCa() : (c.trust ?? undefined),
            },
            done,
          )
        : http.request({ ...options, port: c.plainPort }, done);
    request.on('error', reject);
    request.end(c.body);
  });
}

/**
 * Chromium's arguments to trust the proxy, and only it: the SHA-256 of the public key the proxy
 * presents, once that key's certificate verified against setup's CA (Chromium has no option for a
 * CA of its own short of a certificate database; ignoring every certificate error would hide a
 * wrong one).
 */
export async function chromiumTrustingProxy(): Promise<string[]> {
  const key = await new Promise<Buffer>((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: Number(proxyUrl.port), ca: proxyCa() }, () => {
      const certificate = socket.getPeerX509Certificate();
      socket.end();
      if (!certificate) reject(new Error('the proxy presented no certificate'));
      else resolve(certificate.publicKey.export({ type: 'spki', format: 'der' }));
    });
    socket.once('error', reject);
  });
  return [`--ignore-certificate-errors-spki-list=${createHash('sha256').update(key).digest('base64')}`];
}
