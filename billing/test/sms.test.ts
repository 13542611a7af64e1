// The payday SMS end to end against the real PostgreSQL and InfluxDB and a local SMS.ir
// (testing/sms-receiver.ts): queued with the month's close and with the payout marked paid, sent
// paced and retried, outside the quiet hours, delivery reports followed, opt-outs honoured, audited;
// no national code, Sheba or API key in any SMS, URL or log line.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nationalCodeFor, shebaFor } from '../../lib/identifiers/validate';
import type { InfluxClient } from '../../lib/influx/client';
import { createLogger } from '../../lib/logger';
import { bearer, staffToken, testApp } from '../../testing/api';
import { freshInfluxDatabase, freshPgDatabase } from '../../testing/services';
import { SmsReceiver } from '../../testing/sms-receiver';
import { parseMaintenanceFee } from '../src/core/deductions';
import { DEFAULT_SETTLEMENT_POLICY } from '../src/core/reconcile-settlement';
import { monthBounds } from '../../lib/program/solar-hijri';
import { parseStepDowns } from '../../lib/program/tariff';
import { markPaid, payoutBatch } from '../src/payouts';
import { type BillingDeps, runMonth } from '../src/run-month';
import { readSmsConfig } from '../src/sms/config';
import { SmsSender } from '../src/sms/sender';
import { SmsIr } from '../src/sms/smsir';

const H = 3_600_000;
const ABAN = monthBounds('1404-08');
const API_KEY = 'sms-api-key-SENTINEL-7f3a9c';
/** 10:00 and 23:00 in Tehran tomorrow (after the messages were queued). */
const DAY = Math.ceil(Date.now() / (24 * H)) * 24 * H + 6.5 * H;
const NIGHT = DAY + 13 * H;
const people = [1, 2, 3, 4, 5].map((i) => ({
  id: i,
  code: nationalCodeFor(7000 + i),
  sheba: shebaFor(7000 + i),
  mobile: i === 5 ? null : `0912700000${i}`,
}));

let pool: pg.Pool;
let databaseUrl: string;
let influx: InfluxClient;
let deps: BillingDeps;
const receiver = new SmsReceiver(API_KEY);
const logLines: string[] = [];
const log = createLogger('sms-test', 'trace', { write: (line: string) => void logLines.push(line) });

function sender(env: Record<string, string> = {}) {
  const config = readSmsConfig({
    SMS_API_KEY: API_KEY,
    SMS_API_URL: receiver.url,
    SMS_LINE_NUMBER: '30007732000000',
    SMS_PER_MINUTE: '120',
    SMS_BATCH: '2',
    SMS_RETRY_BASE_SECONDS: '0',
    SMS_MAX_ATTEMPTS: '3',
    ...env,
  });
  return new SmsSender(pool, new SmsIr(config.provider!), config, log);
}
const statuses = async (kind: string) =>
  (
    await pool.query<{ beneficiary_id: number; status: string }>(
      'SELECT beneficiary_id, status::text FROM sms_messages WHERE kind = $1 ORDER BY beneficiary_id',
      [kind],
    )
  ).rows.map((r) => [r.beneficiary_id, r.status]);

beforeAll(async () => {
  databaseUrl = await freshPgDatabase('billing_sms_test');
  pool = new pg.Pool({ connectionString: databaseUrl, max: 4 });
  ({ influx } = await freshInfluxDatabase('billing_sms_test'));
  deps = {
    pool,
    influx,
    log: createLogger('billing-test', 'silent'),
    config: {
      rules: { stepDowns: parseStepDowns(''), maintenanceFee: parseMaintenanceFee('0%'), minimumPayoutRials: 100_000n },
      adjustmentMonths: 0,
      lookaroundDays: 62,
      settlements: DEFAULT_SETTLEMENT_POLICY,
    },
  };
  await pool.query(`
    INSERT INTO installations (id, code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
    SELECT 1, 'SMS-PLANT', 'plant', p.id, 31.9, 54.4, 25, 25, 'COMMISSIONED', now() FROM provinces p WHERE p.code = 'yazd';
    INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at) VALUES ('SMS-INV', 1, 25000, 't', now());
    INSERT INTO contracts (id, installation_id, reference, kind, start_date) VALUES (1, 1, 'C-SMS', 'SUPPORT', '2024-01-01');
    INSERT INTO tariff_periods (contract_id, effective_from, rial_per_kwh) VALUES (1, '2024-01-01', 30000);`);
  for (const p of people)
    await pool.query(
      `INSERT INTO beneficiaries (id, national_code, full_name, sheba, mobile, province_id, target_group, updated_at)
       SELECT $1, $2, $3, $4, $5, id, 'OTHER', now() FROM provinces WHERE code = 'yazd'`,
      [p.id, p.code, `Person ${p.id}`, p.sheba, p.mobile],
    );
  await pool.query(`INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, updated_at)
    SELECT id, 1, 5000, '2024-01-01', now() FROM beneficiaries`);
  // Person 4 asked for no SMS.
  await pool.query('UPDATE beneficiaries SET sms_opt_out_at = now() WHERE id = 4');
  const lines: string[] = [];
  for (let t = ABAN.startMs - 48 * H, wh = 1_000_000; t <= ABAN.endMs + 48 * H; t += H, wh += 2000)
    lines.push(`telemetry,installation=SMS-PLANT,province=yazd,serial=SMS-INV energy_wh_total=${wh} ${t}000000`);
  await influx.write(lines.join('\n'));
  await receiver.start();
});

afterAll(async () => {
  await receiver.stop();
  await pool?.end();
});

describe('the payday SMS', () => {
  it('queues the statement-ready SMS with the close, and sends them paced, in batches, outside the quiet hours', async () => {
    await runMonth(deps, '1404-08', { actor: 'test' });
    expect(await statuses('STATEMENT_READY')).toEqual([]); // a draft announces nothing
    await runMonth(deps, '1404-08', { close: true, actor: 'test' });
    // Person 4 opted out, person 5 has no mobile.
    expect(await statuses('STATEMENT_READY')).toEqual([
      [1, 'QUEUED'],
      [2, 'QUEUED'],
      [3, 'QUEUED'],
    ]);
    const quiet = await sender().sendDue({ now: () => NIGHT });
    expect(quiet).toMatchObject({ quiet: true, sent: 0 });
    expect(receiver.messages).toHaveLength(0);

    let clock = DAY;
    const waits: number[] = [];
    const result = await sender().sendDue({
      now: () => clock,
      sleep: async (ms) => {
        waits.push(ms);
        clock += ms;
      },
    });
    expect(result).toMatchObject({ quiet: false, sent: 3, failed: 0 });
    // Batches of 2 at 120 per minute: a second for the first batch, half a second for the second.
    expect(waits).toEqual([1000, 500]);
    expect(receiver.messages.map((m) => m.mobile).sort()).toEqual(['09127000001', '09127000002', '09127000003']);
    const { rows } = await pool.query(
      `SELECT payable_rials FROM statements WHERE beneficiary_id = 1 AND month = '1404-08'`,
    );
    const toman = (BigInt(rows[0].payable_rials) / 10n).toLocaleString('en-US');
    const fa = toman.replace(/\d/g, (d) => String.fromCharCode(0x06f0 + Number(d))).replace(/,/g, '٬');
    expect(receiver.messages[0]!.text).toBe(`درآمد خورشیدی آبان ۱۴۰۴: ${fa} تومان، به‌زودی واریز می‌شود.`);
    expect(receiver.messages[0]!.lineNumber).toBe(30007732000000);
    expect(await statuses('STATEMENT_READY')).toEqual([
      [1, 'SENT'],
      [2, 'SENT'],
      [3, 'SENT'],
    ]);
  });

  it('follows delivery reports', async () => {
    receiver.deliveryStates.set('09127000002', 2); // not delivered to the phone
    receiver.deliveryStates.set('09127000003', 5); // at the operator: not final yet
    expect(await sender().followReports(DAY)).toBe(2);
    expect(await statuses('STATEMENT_READY')).toEqual([
      [1, 'DELIVERED'],
      [2, 'UNDELIVERED'],
      [3, 'SENT'],
    ]);
  });

  it('queues the payday SMS when the payout is marked paid, retries a refusing provider and gives up after the last attempt', async () => {
    await payoutBatch(pool, '1404-08', 'test', { create: true });
    await markPaid(pool, '1404-08', 'test');
    await markPaid(pool, '1404-08', 'test'); // again: nothing queued twice
    expect(await statuses('PAID')).toEqual([
      [1, 'QUEUED'],
      [2, 'QUEUED'],
      [3, 'QUEUED'],
    ]);
    // Person 3 asks an operator for no more SMS: what is queued for them is cancelled, audited.
    const app = await testApp({ DATABASE_URL: databaseUrl });
    try {
      const operator = await staffToken(app, 'sms-operator', 'OPERATOR', databaseUrl);
      const optOut = { method: 'PUT' as const, url: '/beneficiaries/3/sms', headers: bearer(operator) };
      expect((await app.inject({ ...optOut, payload: { optOut: true } })).statusCode).toBe(204);
      expect((await app.inject({ ...optOut, payload: { optOut: 'yes' } })).statusCode).toBe(400);
      expect(
        (await app.inject({ ...optOut, url: '/beneficiaries/999/sms', payload: { optOut: true } })).statusCode,
      ).toBe(404);
    } finally {
      await app.close();
    }
    const audited = await pool.query(
      `SELECT action, after FROM audit_log WHERE entity = 'beneficiary' AND entity_id = '3'`,
    );
    expect(audited.rows).toEqual([{ action: 'beneficiary.sms_opt_out', after: { smsOptOut: true } }]);
    expect(await statuses('PAID')).toEqual([
      [1, 'QUEUED'],
      [2, 'QUEUED'],
      [3, 'CANCELLED'],
    ]);
    receiver.refuseNext(2, 503);
    const before = receiver.messages.length;
    const s = sender({ SMS_BATCH: '1' });
    expect(await s.sendBatch(DAY)).toMatchObject({ sent: 0, failed: 1 });
    expect(await s.sendBatch(DAY)).toMatchObject({ sent: 0, failed: 1 });
    expect(await s.sendDue({ now: () => DAY, sleep: async () => undefined })).toMatchObject({ sent: 2 });
    expect(receiver.messages.slice(before).map((m) => m.text)).toEqual([
      expect.stringContaining('واریز به حسابتان'),
      expect.stringContaining('واریز به حسابتان'),
    ]);
    expect(await statuses('PAID')).toEqual([
      [1, 'SENT'],
      [2, 'SENT'],
      [3, 'CANCELLED'],
    ]);
    const retried = await pool.query(
      `SELECT attempts FROM sms_messages WHERE kind = 'PAID' AND status = 'SENT' ORDER BY attempts DESC`,
    );
    expect(retried.rows.map((r) => r.attempts)).toEqual([2, 2]); // each refused once, then sent

    // A provider that keeps refusing: the message fails after SMS_MAX_ATTEMPTS and says why.
    await pool.query(
      `INSERT INTO sms_messages (beneficiary_id, month, kind, mobile, text) VALUES (1, '1404-07', 'PAID', '09127000001', 'x')`,
    );
    receiver.refuseNext(3, 429);
    for (let i = 0; i < 3; i++) await s.sendBatch(DAY);
    const failed = await pool.query(
      `SELECT status::text, attempts, last_error FROM sms_messages WHERE month = '1404-07' AND beneficiary_id = 1`,
    );
    expect(failed.rows[0]).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(failed.rows[0].last_error).toContain('HTTP 429');

    // Old news is not sent: a message still queued a week after it was queued is cancelled.
    await pool.query(
      `INSERT INTO sms_messages (beneficiary_id, month, kind, mobile, text) VALUES (2, '1404-07', 'PAID', '09127000002', 'x')`,
    );
    expect(await s.sendBatch(DAY + 8 * 24 * H)).toMatchObject({ sent: 0, cancelled: 1 });
    const stale = await pool.query(
      `SELECT status::text, last_error FROM sms_messages WHERE month = '1404-07' AND beneficiary_id = 2`,
    );
    expect(stale.rows[0]).toEqual({ status: 'CANCELLED', last_error: 'not sent within 7 days of being queued' });
  });

  it('audits every batch, and keeps national codes, Shebas, mobiles and the API key out of SMS, URLs and logs', async () => {
    const audit = await pool.query(
      `SELECT action, count(*)::int AS n FROM audit_log WHERE entity = 'sms_batch' GROUP BY action ORDER BY action`,
    );
    expect(audit.rows).toEqual([
      { action: 'sms.refused', n: 5 },
      { action: 'sms.sent', n: 4 },
    ]);
    const logs = logLines.join('\n');
    expect(logs).toContain('sms: batch accepted by the provider');
    for (const p of people) {
      for (const secret of [p.code, p.sheba])
        for (const text of [...receiver.messages.map((m) => m.text), logs]) expect(text).not.toContain(secret);
      if (p.mobile) expect(logs).not.toContain(p.mobile);
    }
    expect(logs).not.toContain(API_KEY);
    for (const r of receiver.requests) {
      expect(r.url).not.toContain(API_KEY);
      expect(r.headers['x-api-key']).toBe(API_KEY);
    }
  });
});
