// A local SMS.ir for tests (the subset of https://apidocs.sms.ir/ that billing's sender uses):
// POST /v1/send/likeToLike and GET /v1/send/pack/{packId}, both behind the X-API-KEY header. It
// keeps every message and request it saw, can refuse the next requests (a provider outage or
// rate limit) and reports the delivery state tests choose per mobile (SMS.ir's codes, 1 delivered).
import { createServer, type IncomingMessage, type Server } from 'node:http';

export interface ReceivedSms {
  mobile: string;
  text: string;
  messageId: number;
  packId: string;
  lineNumber: number;
}

export class SmsReceiver {
  readonly messages: ReceivedSms[] = [];
  /** Every request as it arrived: method, URL and headers (to check where secrets went). */
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
  /** SMS.ir deliveryState per mobile; 1 (delivered) when not set. */
  readonly deliveryStates = new Map<string, number>();
  private refusals: number[] = [];
  private server: Server | null = null;
  private nextId = 1000;
  url = '';

  constructor(private readonly apiKey: string) {}

  /** The next `count` send requests are answered with `status` (e.g. 500 or 429). */
  refuseNext(count: number, status: number) {
    this.refusals.push(...Array.from({ length: count }, () => status));
  }

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        this.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers, body });
        const reply = (status: number, payload: unknown) =>
          response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
        if (request.headers['x-api-key'] !== this.apiKey)
          return reply(401, { status: 0, message: 'کلید وب سرویس نامعتبر است', data: null });
        if (request.method === 'POST' && request.url === '/v1/send/likeToLike') {
          const refusal = this.refusals.shift();
          if (refusal) return reply(refusal, { status: 0, message: `refused (${refusal})`, data: null });
          const sent = JSON.parse(body) as { lineNumber: number; messageTexts: string[]; mobiles: string[] };
          const packId = `pack-${this.nextId}`;
          const messageIds = sent.mobiles.map((mobile, i) => {
            const messageId = this.nextId++;
            this.messages.push({ mobile, text: sent.messageTexts[i]!, messageId, packId, lineNumber: sent.lineNumber });
            return messageId;
          });
          return reply(200, { status: 1, message: 'موفق', data: { packId, messageIds, cost: messageIds.length } });
        }
        const pack = /^\/v1\/send\/pack\/([^/]+)$/.exec(request.url ?? '');
        if (request.method === 'GET' && pack)
          return reply(200, {
            status: 1,
            message: 'موفق',
            data: this.messages
              .filter((m) => m.packId === decodeURIComponent(pack[1]!))
              .map((m) => ({ ...m, deliveryState: this.deliveryStates.get(m.mobile) ?? 1, deliveryDateTime: 0 })),
          });
        return reply(404, { status: 0, message: 'not found', data: null });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${address.port}/v1`;
    return this.url;
  }

  async stop() {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
