// SMS.ir's REST API, version 1 — the provider's documentation: https://apidocs.sms.ir/ ("ارسال
// نظیر به نظیر" POST /v1/send/likeToLike; "گزارش ارسال" GET /v1/send/pack/{packId}). Every call
// carries the account's API key in the X-API-KEY header (never in the URL, never logged). A reply
// is JSON `{ status, message, data }` with status 1 on success; anything else is an error naming
// the HTTP status and the provider's message (which holds no phone number).

export interface SmsProvider {
  /** Sends each text to its mobile (same order); the provider's ids, in the same order. */
  send(messages: { mobile: string; text: string }[]): Promise<{ packId: string; messageIds: string[] }>;
  /** The delivery state of every message of a pack. */
  report(packId: string): Promise<{ messageId: string; state: DeliveryState }[]>;
}

export type DeliveryState = 'DELIVERED' | 'UNDELIVERED' | 'PENDING';

/**
 * SMS.ir's deliveryState codes (the documentation's "وضعیت تحویل"): 1 delivered to the phone;
 * 2 not delivered to the phone, 4 not delivered to the operator, 6 failed, 7 the number is on the
 * operators' block list (the person refused advertising SMS); 3 in the operator's processing and
 * 5 delivered to the operator are not final yet.
 */
export function deliveryState(code: number): DeliveryState {
  if (code === 1) return 'DELIVERED';
  if (code === 2 || code === 4 || code === 6 || code === 7) return 'UNDELIVERED';
  return 'PENDING';
}

export class SmsProviderError extends Error {
  constructor(
    message: string,
    /** The HTTP status, or null when no answer came (timeout, connection refused). */
    readonly status: number | null,
  ) {
    super(message);
  }
}

export class SmsIr implements SmsProvider {
  constructor(private readonly options: { url: string; apiKey: string; lineNumber: string; timeoutMs: number }) {}

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.options.url}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-api-key': this.options.apiKey,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      const reason =
        error instanceof Error ? (error.name === 'TimeoutError' ? 'timed out' : error.message) : String(error);
      throw new SmsProviderError(`SMS provider unreachable: ${reason}`, null);
    }
    const text = await response.text();
    let reply: { status?: number; message?: string; data?: T } = {};
    try {
      reply = JSON.parse(text);
    } catch {
      // not JSON: reported below with the HTTP status
    }
    // The provider's message is stored and logged: without our key, should it (or a relay) echo it.
    const said = reply.message ? String(reply.message).split(this.options.apiKey).join('[redacted]').slice(0, 200) : '';
    if (!response.ok || reply.status !== 1)
      throw new SmsProviderError(
        `SMS provider answered HTTP ${response.status}${said ? `: ${said}` : ''}`,
        response.status,
      );
    return reply.data as T;
  }

  async send(messages: { mobile: string; text: string }[]) {
    const data = await this.call<{ packId: string; messageIds: number[] }>('POST', '/send/likeToLike', {
      lineNumber: Number(this.options.lineNumber),
      messageTexts: messages.map((m) => m.text),
      mobiles: messages.map((m) => m.mobile),
      sendDateTime: null,
    });
    if (!data || typeof data.packId !== 'string' || data.messageIds?.length !== messages.length)
      throw new SmsProviderError('SMS provider accepted the request but returned no message ids', 200);
    return { packId: data.packId, messageIds: data.messageIds.map(String) };
  }

  async report(packId: string) {
    const data = await this.call<{ messageId: number; deliveryState: number | null }[]>(
      'GET',
      `/send/pack/${encodeURIComponent(packId)}`,
    );
    return (data ?? []).map((m) => ({ messageId: String(m.messageId), state: deliveryState(m.deliveryState ?? 0) }));
  }
}
