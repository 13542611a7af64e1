// Alertmanager's webhooks, relayed: Alertmanager posts to the monitor with the webhook's fingerprint
// (alertmanager-config.ts), and the monitor, which holds ALERTS_WEBHOOK_URLS, forwards the body to
// that URL. Alertmanager retries on a 5xx, so an unreachable webhook answers 502.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { webhookFingerprint, webhookLabel } from '../../alerts/index';
import { type Logger, redactSecrets } from '../../lib/logger';
import { relayPath } from './alertmanager-config';

const MAX_BODY = 4 * 1024 * 1024;

export function webhookRelay(urls: string[], timeoutMs: number, log: Logger) {
  const byPath = new Map(urls.map((url) => [relayPath(webhookFingerprint(url)), url]));
  /** True when the request was the relay's (answered here). */
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = byPath.get(request.url ?? '');
    if (request.method !== 'POST' || !url) return false;
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY) chunks.push(chunk);
    });
    request.on('end', () => {
      if (size > MAX_BODY) {
        response.writeHead(413).end();
        return;
      }
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.concat(chunks),
        signal: AbortSignal.timeout(timeoutMs),
      })
        .then((answer) => {
          if (!answer.ok)
            log.warn({ webhook: webhookLabel(url), status: answer.status }, 'platform alert not delivered');
          response.writeHead(answer.ok ? 200 : answer.status >= 500 ? 502 : answer.status).end();
        })
        .catch((error: Error) => {
          const reason = error.name === 'TimeoutError' ? 'timed out' : redactSecrets(error.message);
          log.warn({ webhook: webhookLabel(url), reason }, 'platform alert not delivered');
          response.writeHead(502).end();
        });
    });
    return true;
  };
}
