// Delivers queued notifications by e-mail (SMTP, nodemailer) and webhook (a JSON body a Telegram-
// or Bale-style bot relay forwards as it is). Failures are retried with exponential back-off up to
// a maximum number of attempts; every attempt is stored and the notification shows its last error.
import nodemailer, { type Transporter } from 'nodemailer';
import type SMTPTransport from 'nodemailer/lib/smtp-transport';
import type pg from 'pg';
import { type Logger, redactSecrets } from '../../lib/logger';
import { TEHRAN_TIME_ZONE } from '../../lib/program/tehran-time';
import { withTransaction } from '../../lib/transaction';
import { installationCodes, provinceCodes } from '../../registry/index';
import type { NotificationConfig } from './config';
import { fingerprintOfLabel, webhookFingerprint } from './store';

const BATCH = 100;
const PARALLEL = 8;
const MAX_BACKOFF_MS = 3_600_000;

export interface Message {
  notificationId: string;
  alertId: string;
  kind: 'OPENED' | 'REMINDER' | 'CLOSED';
  sequence: number;
  channel: 'EMAIL' | 'WEBHOOK';
  recipient: string;
  attempts: number;
  rule: string;
  cause: string;
  severity: string;
  state: string;
  summary: string;
  installation: string | null;
  province: string;
  lostKwhPerDay: string;
  lostRialsPerDay: string;
  openedAt: string;
}

/** A notice about the platform's own health, in the words of its alerts (ops/monitor/rules.yml). */
export interface PlatformNotice {
  alertname: string;
  status: 'firing' | 'resolved';
  summary: string;
  text: string;
}

const rials = (text: string) => `${BigInt(text).toLocaleString('en-US')} Rials`;
const tehranTime = (iso: string) =>
  new Date(iso).toLocaleString('en-GB', { timeZone: TEHRAN_TIME_ZONE, dateStyle: 'medium', timeStyle: 'short' });

export function subjectOf(m: Message): string {
  const head = m.kind === 'REMINDER' ? `Reminder ${m.sequence}: ` : m.kind === 'CLOSED' ? 'Closed: ' : '';
  return `${head}[${m.severity}] ${m.rule} (${m.cause}) ${m.installation ?? m.province}`;
}

export function textOf(m: Message): string {
  return [
    subjectOf(m),
    m.summary,
    `Income at risk: ${rials(m.lostRialsPerDay)} per day (${m.lostKwhPerDay} kWh per day)`,
    `Opened: ${tehranTime(m.openedAt)} (Tehran)`,
    `Alert ${m.alertId}: acknowledge, assign or mute it through the API (POST /alerts/${m.alertId}/acknowledge).`,
  ].join('\n');
}

/** The webhook body: `text` for a chat bot, `alert` for machines; `chat_id` when configured. */
export function webhookBody(m: Message, chatId: string | null) {
  return {
    ...(chatId ? { chat_id: chatId } : {}),
    text: textOf(m),
    alert: {
      id: m.alertId,
      notification: m.kind,
      sequence: m.sequence,
      rule: m.rule,
      cause: m.cause,
      severity: m.severity,
      state: m.state,
      installation: m.installation,
      province: m.province,
      summary: m.summary,
      lostKwhPerDay: Number(m.lostKwhPerDay),
      lostRialsPerDay: m.lostRialsPerDay,
      openedAt: m.openedAt,
    },
  };
}

/** Back-off before attempt n + 1 after n failures: base × 2^(n − 1), at most an hour. */
export const retryDelayMs = (failures: number, baseSeconds: number) =>
  Math.min(MAX_BACKOFF_MS, baseSeconds * 1000 * 2 ** Math.max(0, failures - 1));

/**
 * What of the notifier's settings is secret, as it could come back in an error's text (a mail
 * server or relay echoing what it was sent, a driver quoting its input): the URLs' user and
 * password, the webhooks' path segments that could be tokens and their query values, as written
 * and decoded. Short pieces are left: they would censor ordinary words.
 */
export function notificationSecrets(config: NotificationConfig): string[] {
  const found = new Set<string>();
  const add = (value: string) => {
    for (const v of [value, safeDecode(value)]) if (v.length >= 6) found.add(v);
  };
  for (const text of [config.smtpUrl, ...config.webhookUrls]) {
    if (!text) continue;
    const url = new URL(text);
    add(url.password);
    if (url.protocol.startsWith('http')) {
      add(url.username);
      for (const segment of url.pathname.split('/')) {
        if (/\d/.test(segment) || segment.includes(':')) add(segment);
        for (const part of segment.split(':')) if (/\d/.test(part) && /[a-z]/i.test(part)) add(part);
      }
      for (const value of url.searchParams.values()) add(value);
    }
  }
  // Longest first: a token inside a longer secret is censored with it.
  return [...found].sort((a, b) => b.length - a.length);
}
const safeDecode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/**
 * An error fit to store and log: its message and stack (and its cause's) without the notifier's
 * secrets, by value and by shape, and the codes that say what failed (nodemailer's EAUTH, an SMTP
 * reply code, a socket's ECONNREFUSED); not the other fields a driver attaches (a server's reply).
 */
export function safeError(error: unknown, clean: (text: string) => string, depth = 0): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const safe = new Error(clean(source.message)) as Error & { code?: string; responseCode?: number };
  safe.name = source.name;
  safe.stack = clean(source.stack ?? `${source.name}: ${source.message}`);
  const { code, responseCode } = source as { code?: unknown; responseCode?: unknown };
  if (typeof code === 'string') safe.code = clean(code);
  if (typeof responseCode === 'number') safe.responseCode = responseCode;
  if (source.cause !== undefined && depth < 2) safe.cause = safeError(source.cause, clean, depth + 1);
  return safe;
}

export class Deliverer {
  private readonly mail: Transporter | null;
  /** Webhook URLs by fingerprint: notifications store a label, the URL stays in the configuration. */
  private readonly webhooks: Map<string, string>;
  private readonly withoutSecrets: (text: string) => string;

  constructor(
    private readonly pool: pg.Pool,
    private readonly config: NotificationConfig,
    private readonly logger: Logger,
  ) {
    this.webhooks = new Map(config.webhookUrls.map((url) => [webhookFingerprint(url), url]));
    const secrets = notificationSecrets(config);
    this.withoutSecrets = (text) =>
      redactSecrets(secrets.reduce((t, secret) => t.split(secret).join('[redacted]'), text));
    this.mail = config.smtpUrl
      ? nodemailer.createTransport({
          url: config.smtpUrl,
          connectionTimeout: config.timeoutMs,
          greetingTimeout: config.timeoutMs,
          socketTimeout: config.timeoutMs,
        } as SMTPTransport.Options)
      : null;
  }

  private async send(m: Message): Promise<void> {
    if (m.channel === 'EMAIL') {
      if (!this.mail) throw new Error('no SMTP server configured (ALERTS_SMTP_URL)');
      await this.mail.sendMail({
        from: this.config.emailFrom,
        to: m.recipient,
        subject: subjectOf(m),
        text: textOf(m),
        // For filters and relays: which alert and which message of it (each is sent once).
        headers: { 'X-Solar-Alert': m.alertId, 'X-Solar-Notification': `${m.kind}/${m.sequence}` },
      });
      return;
    }
    const url = this.webhooks.get(fingerprintOfLabel(m.recipient) ?? '');
    if (!url) throw new Error(`webhook ${m.recipient} is no longer in ALERTS_WEBHOOK_URLS`);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(webhookBody(m, this.config.webhookChatId)),
      signal: AbortSignal.timeout(this.config.timeoutMs),
    });
    if (!response.ok) throw new Error(`webhook answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
  }

  /**
   * A notice about the platform itself (watchers.ts), straight to every receiver: no alert row and
   * no retry schedule, the caller sends it again until it is delivered. Throws when a receiver was
   * not reached (the message names none: URLs carry bot tokens).
   */
  async sendNotice(notice: PlatformNotice): Promise<void> {
    const state = notice.status === 'firing' ? 'FIRING' : 'RESOLVED';
    const subject = `[${state}] ${notice.alertname}: ${notice.summary}`;
    const text = `${subject}\n${notice.text}`;
    const sends: Promise<unknown>[] = this.config.webhookUrls.map((url) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          ...(this.config.webhookChatId ? { chat_id: this.config.webhookChatId } : {}),
          text,
          platform: notice,
        }),
        signal: AbortSignal.timeout(this.config.timeoutMs),
      }).then((response) => {
        if (!response.ok) throw new Error(`a webhook answered ${response.status}`);
      }),
    );
    if (this.config.emailTo.length > 0) {
      if (!this.mail) throw new Error('no SMTP server configured (ALERTS_SMTP_URL)');
      sends.push(this.mail.sendMail({ from: this.config.emailFrom, to: this.config.emailTo, subject, text }));
    }
    const failures = (await Promise.allSettled(sends)).filter((r) => r.status === 'rejected');
    if (failures.length > 0)
      throw new Error(
        `${notice.alertname} not delivered to ${failures.length} of ${sends.length} receivers: ` +
          `${redactSecrets(String((failures[0] as PromiseRejectedResult).reason))}`,
      );
  }

  /** Sends what is due; returns how many were sent and how many failed this time. */
  async deliverDue(nowMs = Date.now()): Promise<{ sent: number; failed: number }> {
    let sent = 0;
    let failed = 0;
    await withTransaction(this.pool, async (client) => {
      const due = await client.query<
        Omit<Message, 'installation' | 'province'> & { installationId: number | null; provinceId: number }
      >(
        `SELECT n.id::text AS "notificationId", a.id::text AS "alertId", n.kind, n.sequence, n.channel::text AS channel,
                n.recipient, n.attempts, a.rule::text AS rule, a.cause, a.severity::text AS severity, a.state::text AS state,
                a.summary, a.installation_id AS "installationId", a.province_id AS "provinceId",
                a.lost_kwh_per_day::text AS "lostKwhPerDay", a.lost_rials_per_day::text AS "lostRialsPerDay",
                to_char(a.opened_at, 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "openedAt"
           FROM alert_notifications n JOIN alerts a ON a.id = n.alert_id
          WHERE n.status = 'PENDING' AND n.next_attempt_at <= (to_timestamp($1::float8 / 1000) AT TIME ZONE 'UTC')
          ORDER BY n.next_attempt_at, n.id LIMIT ${BATCH} FOR UPDATE OF n SKIP LOCKED`,
        [nowMs],
      );
      if (due.rows.length === 0) return;
      // The installation's and province's codes, from the registry.
      const installations = await installationCodes(
        client,
        due.rows.flatMap((m) => (m.installationId === null ? [] : [m.installationId])),
      );
      const provinces = await provinceCodes(client, [...new Set(due.rows.map((m) => m.provinceId))]);
      const rows: Message[] = due.rows.map(({ installationId, provinceId, ...m }) => ({
        ...m,
        installation: installationId === null ? null : (installations.get(installationId)?.code ?? null),
        province: provinces.get(provinceId)!,
      }));
      const outcomes: { id: string; ok: boolean; ms: number; error: string | null; attempts: number }[] = [];
      for (let k = 0; k < rows.length; k += PARALLEL)
        await Promise.all(
          rows.slice(k, k + PARALLEL).map(async (m) => {
            const started = performance.now();
            try {
              await this.send(m);
              outcomes.push({
                id: m.notificationId,
                ok: true,
                ms: performance.now() - started,
                error: null,
                attempts: m.attempts + 1,
              });
            } catch (error) {
              // Stored and shown to staff, and logged: a relay's answer or a driver's message may quote the URL.
              const safe = safeError(error, this.withoutSecrets);
              outcomes.push({
                id: m.notificationId,
                ok: false,
                ms: performance.now() - started,
                error: safe.message.slice(0, 1000),
                attempts: m.attempts + 1,
              });
              this.logger.warn(
                { notification: m.notificationId, channel: m.channel, attempt: m.attempts + 1, err: safe },
                'notification not delivered',
              );
            }
          }),
        );
      for (const o of outcomes) {
        if (o.ok) sent += 1;
        else failed += 1;
        const exhausted = !o.ok && o.attempts >= this.config.maxAttempts;
        await client.query(
          `UPDATE alert_notifications SET attempts = $2, status = $3::notification_status, last_error = COALESCE($4, last_error),
                  sent_at = CASE WHEN $3 = 'SENT' THEN (to_timestamp($5::float8 / 1000) AT TIME ZONE 'UTC') END,
                  next_attempt_at = (to_timestamp(($5::float8 + $6::float8) / 1000) AT TIME ZONE 'UTC')
            WHERE id = $1`,
          [
            o.id,
            o.attempts,
            o.ok ? 'SENT' : exhausted ? 'FAILED' : 'PENDING',
            o.error,
            nowMs,
            o.ok ? 0 : retryDelayMs(o.attempts, this.config.retryBaseSeconds),
          ],
        );
        await client.query(
          `INSERT INTO alert_delivery_attempts (notification_id, at, ok, duration_ms, error)
           VALUES ($1, (to_timestamp($2::float8 / 1000) AT TIME ZONE 'UTC'), $3, $4, $5)`,
          [o.id, nowMs, o.ok, Math.round(o.ms), o.error],
        );
      }
    });
    return { sent, failed };
  }

  close() {
    this.mail?.close();
  }
}
