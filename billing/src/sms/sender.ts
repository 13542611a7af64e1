// Sends the queued SMS through the provider, paced (SMS_PER_MINUTE: the payday wave the portal's
// sign-in can take), never in the quiet hours, retried with exponential back-off up to
// SMS_MAX_ATTEMPTS, and follows each pack's delivery report. Every batch sent or refused is in the
// audit log (message ids and counts; no phone numbers). Logs carry counts and provider ids only.
import type pg from 'pg';
import { recordedRun } from '../../../lib/job-runs';
import { type AuditAction, serviceActor, writeAudit } from '../../../lib/audit';
import type { Logger } from '../../../lib/logger';
import { withTransaction } from '../../../lib/transaction';
import { smsRecipientsOf } from '../../../registry/index';
import { isQuiet, type SmsConfig } from './config';
import type { SmsProvider } from './smsir';

/** The longest wait between two attempts (seconds). */
const MAX_BACKOFF_S = 6 * 3600;
/** Messages older than this are cancelled rather than sent late. */
const MAX_AGE_DAYS = 7;
/** Packs whose reports are still followed: the providers keep them for a few days. */
const REPORT_WINDOW_DAYS = 3;
/** An instant given in ms as the UTC timestamp the columns hold (whatever the session's time zone). */
const AT = `(to_timestamp($1::float8 / 1000) AT TIME ZONE 'UTC')`;

export interface RoundResult {
  quiet: boolean;
  sent: number;
  failed: number;
  cancelled: number;
}

export class SmsSender {
  constructor(
    private readonly pool: pg.Pool,
    private readonly provider: SmsProvider,
    private readonly config: SmsConfig,
    private readonly log: Logger,
  ) {}

  /** One batch of what is due (at most SMS_BATCH messages, one request to the provider). */
  async sendBatch(nowMs = Date.now()): Promise<RoundResult> {
    if (isQuiet(this.config.quietHours, nowMs)) return { quiet: true, sent: 0, failed: 0, cancelled: 0 };
    return withTransaction(this.pool, async (db) => {
      // Whoever opted out after their message was queued gets nothing; news older than a week
      // (queued while no provider was configured, or held by a long outage) is not news any more.
      const queuedFor = await db.query<{ beneficiary_id: number }>(
        `SELECT DISTINCT beneficiary_id FROM sms_messages WHERE status = 'QUEUED'`,
      );
      const recipients = await smsRecipientsOf(
        db,
        queuedFor.rows.map((r) => r.beneficiary_id),
      );
      const optedOut = [...recipients].filter(([, r]) => r.optedOut).map(([id]) => id);
      const cancelled = await db.query(
        `UPDATE sms_messages m SET status = 'CANCELLED',
                last_error = CASE WHEN m.beneficiary_id <> ALL($2::int[]) THEN 'not sent within ${MAX_AGE_DAYS} days of being queued' END
          WHERE m.status = 'QUEUED'
            AND (m.beneficiary_id = ANY($2::int[]) OR m.created_at < ${AT} - make_interval(days => ${MAX_AGE_DAYS}))`,
        [nowMs, optedOut],
      );
      const { rows } = await db.query<{ id: string; mobile: string; text: string; attempts: number }>(
        `SELECT id::text, mobile, text, attempts FROM sms_messages WHERE status = 'QUEUED' AND next_attempt_at <= ${AT}
          ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
        [nowMs, this.config.batch],
      );
      let sent = 0;
      let failed = 0;
      if (rows.length > 0) {
        const ids = rows.map((r) => r.id);
        try {
          const result = await this.provider.send(rows.map((r) => ({ mobile: r.mobile, text: r.text })));
          await db.query(
            `UPDATE sms_messages m SET status = 'SENT', attempts = m.attempts + 1, sent_at = ${AT.replace('$1', '$2')}, provider_pack_id = $3,
                    provider_message_id = t.message_id, last_error = NULL
               FROM unnest($1::bigint[], $4::text[]) AS t(id, message_id) WHERE m.id = t.id`,
            [ids, nowMs, result.packId, result.messageIds],
          );
          await this.audit(db, 'sms.sent', result.packId, { messages: ids, providerMessageIds: result.messageIds });
          sent = rows.length;
          this.log.info({ sms: rows.length, pack: result.packId }, 'sms: batch accepted by the provider');
        } catch (error) {
          const message = (error instanceof Error ? error.message : String(error)).slice(0, 500);
          const attempts = rows[0]!.attempts + 1;
          const exhausted = rows.filter((r) => r.attempts + 1 >= this.config.maxAttempts).map((r) => r.id);
          await db.query(
            `UPDATE sms_messages SET attempts = attempts + 1, last_error = $2,
                    status = CASE WHEN id = ANY($3::bigint[]) THEN 'FAILED'::sms_status ELSE 'QUEUED'::sms_status END,
                    next_attempt_at = ${AT.replace('$1', '$4')} + make_interval(secs => LEAST($5::float8 * power(2, attempts), ${MAX_BACKOFF_S}))
              WHERE id = ANY($1::bigint[])`,
            [ids, message, exhausted, nowMs, this.config.retryBaseSeconds],
          );
          await this.audit(db, 'sms.refused', ids[0]!, { messages: ids, error: message, gaveUp: exhausted });
          failed = rows.length;
          this.log.warn(
            { sms: rows.length, attempt: attempts, gaveUp: exhausted.length, err: message },
            'sms: batch not sent',
          );
        }
      }
      return { quiet: false, sent, failed, cancelled: cancelled.rowCount ?? 0 };
    });
  }

  /** Sends everything due, batch after batch, at SMS_PER_MINUTE; stops when nothing is due or the quiet hours start. */
  async sendDue(options: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {}): Promise<RoundResult> {
    const now = options.now ?? Date.now;
    const sleep = options.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const total: RoundResult = { quiet: false, sent: 0, failed: 0, cancelled: 0 };
    for (;;) {
      const started = now();
      const round = await this.sendBatch(started);
      total.quiet = round.quiet;
      total.sent += round.sent;
      total.failed += round.failed;
      total.cancelled += round.cancelled;
      if (round.quiet || round.sent + round.failed === 0) return total;
      // Pace: a batch of n messages takes n / perMinute minutes, whatever the provider's speed.
      const due = started + ((round.sent + round.failed) * 60_000) / this.config.perMinute;
      await sleep(Math.max(0, due - now()));
    }
  }

  /** Reads the delivery reports of recent packs still waiting for one; returns how many messages changed. */
  async followReports(nowMs = Date.now()): Promise<number> {
    const { rows } = await this.pool.query<{ pack: string }>(
      `SELECT DISTINCT provider_pack_id AS pack FROM sms_messages
        WHERE status = 'SENT' AND sent_at > ${AT} - make_interval(days => ${REPORT_WINDOW_DAYS}) LIMIT 50`,
      [nowMs],
    );
    let changed = 0;
    for (const { pack } of rows) {
      let report: Awaited<ReturnType<SmsProvider['report']>>;
      try {
        report = await this.provider.report(pack);
      } catch (error) {
        this.log.warn({ pack, err: error instanceof Error ? error.message : String(error) }, 'sms: report not read');
        continue;
      }
      const final = report.filter((r) => r.state !== 'PENDING');
      if (final.length === 0) continue;
      const updated = await this.pool.query(
        `UPDATE sms_messages m SET status = t.state::sms_status, reported_at = ${AT.replace('$1', '$3')}
           FROM unnest($1::text[], $2::text[]) AS t(message_id, state)
          WHERE m.provider_pack_id = $4 AND m.provider_message_id = t.message_id AND m.status = 'SENT'`,
        [final.map((r) => r.messageId), final.map((r) => r.state), nowMs, pack],
      );
      changed += updated.rowCount ?? 0;
    }
    if (changed > 0) this.log.info({ sms: changed }, 'sms: delivery reports recorded');
    return changed;
  }

  private async audit(db: pg.ClientBase, action: AuditAction, entityId: string, after: unknown) {
    await writeAudit(db, {
      actor: serviceActor('sms-sender'),
      action,
      entity: 'sms_batch',
      entityId: entityId.slice(0, 60),
      after,
    });
  }
}

/** The sender's status per month and kind, for operators. */
export async function smsStatus(db: pg.Pool, month: string) {
  const { rows } = await db.query<{ kind: string; status: string; count: number }>(
    `SELECT kind::text, status::text, count(*)::int AS count FROM sms_messages WHERE month = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [month],
  );
  return rows;
}

/**
 * The sender as a service: every minute, what is due (paced), then the delivery reports; one
 * round at a time. Without a provider it says once what to configure and sends nothing.
 */
export function startSmsSender(pool: pg.Pool, provider: SmsProvider | null, config: SmsConfig, log: Logger) {
  if (!provider) {
    log.warn('sms: no provider configured (SMS_API_KEY, SMS_LINE_NUMBER): messages stay queued');
    return { stop: () => undefined };
  }
  const sender = new SmsSender(pool, provider, config, log);
  let running = false;
  const round = async () => {
    if (running) return;
    running = true;
    try {
      await recordedRun(pool, 'sms-sender', 60, async () => {
        await sender.sendDue();
        await sender.followReports();
      });
    } catch (error) {
      log.error({ err: error }, 'sms: round failed; retried in a minute');
    } finally {
      running = false;
    }
  };
  void round();
  const timer = setInterval(round, 60_000);
  log.info({ perMinute: config.perMinute, quietHours: config.quietHours }, 'sms sender started');
  return { stop: () => clearInterval(timer) };
}
