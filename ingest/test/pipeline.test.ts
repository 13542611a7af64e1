// The ingest service as a real process against the real Mosquitto, InfluxDB and PostgreSQL.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readMqttConfig } from '../../lib/config';
import type { InfluxClient } from '../../lib/influx/client';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { provisionDevice, revokeDevice } from '../../lib/mqtt/device-accounts';
import { statusTopic, telemetryTopic } from '../../lib/telemetry/contract';
import { publishBurst } from '../../testing/publish';
import {
  connectFleetClient,
  countPoints,
  discardIngestSession,
  env,
  freshInfluxDatabase,
  ingestHealth,
  ingestMetric,
  registerFleet,
  startIngestProcess,
  waitFor,
  withPg,
  type IngestProcess,
} from '../../testing/services';

const DATABASE = 'test_ingest';
let influx: InfluxClient;
let publisher: MqttClient;
const running: IngestProcess[] = [];
const dataDirs: string[] = [];
const workers = new Set<string>();

beforeAll(async () => {
  ({ influx } = await freshInfluxDatabase(DATABASE));
  publisher = await connectFleetClient(`test-publisher-${process.pid}`);
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});
afterAll(async () => {
  await publisher.endAsync();
  for (const worker of workers) await discardIngestSession(worker);
  for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
});

let groupSeq = 0;
/** An ingest process on its own share group, data dir and InfluxDB database. */
async function startIngest(
  overrides: Record<string, string> = {},
  reuse?: { dataDir: string; group: string; worker: string },
) {
  const dataDir = reuse?.dataDir ?? mkdtempSync(join(tmpdir(), 'ingest-test-'));
  if (!reuse) dataDirs.push(dataDir);
  const group = reuse?.group ?? `test-${process.pid}-${++groupSeq}`;
  const worker = reuse?.worker ?? `t${process.pid}-${groupSeq}`;
  workers.add(worker);
  const proc = await startIngestProcess({
    INFLUX_DATABASE: DATABASE,
    INGEST_SHARE_GROUP: group,
    INGEST_DATA_DIR: dataDir,
    INGEST_WORKER_ID: worker,
    ...overrides,
  });
  running.push(proc);
  return { proc, dataDir, group, worker };
}

const bySerialPrefix = (prefix: string) => `"serial" =~ /^${prefix}/`;
const publish = (topic: string, payload: string | Buffer) => publisher.publishAsync(topic, payload, { qos: 1 });
const reading = (ts: number, energy: number, power = 2000, extra: Record<string, unknown> = {}) => ({
  ts,
  energy_wh_total: energy,
  ac_power_w: power,
  state: 'MPPT',
  ...extra,
});

describe('ingest pipeline (real broker, InfluxDB, PostgreSQL)', () => {
  it('stores single and batched readings with registry tags, fields and device timestamps; duplicates do not double', async () => {
    const [a, b] = await registerFleet('PIPE', 2, { perInstallation: 1 });
    const { proc } = await startIngest();
    const t0 = Date.parse('2026-11-20T06:30:00Z');
    await publish(
      telemetryTopic(a!),
      JSON.stringify(reading(t0, 100.25, 1500, { seq: 1, events: ['GRID_OK'], temperature_c: 35.5 })),
    );
    await publish(
      telemetryTopic(b!),
      JSON.stringify([reading('2026-11-20T06:31:00+03:30' as never, 200), reading(t0 + 120_000, 201.5)]),
    );
    // Redelivery and a datalogger re-flushing what it already sent: same series, same timestamps.
    await publish(
      telemetryTopic(a!),
      JSON.stringify(reading(t0, 100.25, 1500, { seq: 1, events: ['GRID_OK'], temperature_c: 35.5 })),
    );
    await publish(telemetryTopic(b!), JSON.stringify([reading(t0 + 120_000, 201.5)]));
    await publish(statusTopic(a!), 'online');

    await waitFor(
      '3 accepted readings and 2 duplicates',
      async () => [
        await ingestMetric(proc.port, 'ingest_readings_accepted_total'),
        await ingestMetric(proc.port, 'ingest_readings_duplicate_total'),
      ],
      ([accepted, duplicates]) => accepted === 3 && duplicates === 2,
    );
    await waitFor(
      'journal drained',
      () => ingestHealth(proc.port),
      (h) => h.journalBacklogBytes === 0,
    );
    expect(await countPoints(influx, 'telemetry', bySerialPrefix('PIPE'))).toBe(3);

    const rows = await influx.rows(`SELECT * FROM "telemetry" WHERE ${bySerialPrefix('PIPE')} ORDER BY time`);
    expect(rows.map((r) => [r.time, r.serial, r.installation, r.province, r.energy_wh_total])).toEqual([
      [Date.parse('2026-11-20T03:01:00Z'), b, 'PIPE-INST-00001', 'yazd', 200],
      [t0, a, 'PIPE-INST-00000', 'yazd', 100.25],
      [t0 + 120_000, b, 'PIPE-INST-00001', 'yazd', 201.5],
    ]);
    expect(rows[1]).toMatchObject({
      ac_power_w: 1500,
      state: 'MPPT',
      seq: 1,
      events: '["GRID_OK"]',
      temperature_c: 35.5,
    });
    const status = await influx.rows(`SELECT * FROM "device_status" WHERE ${bySerialPrefix('PIPE')}`);
    expect(status).toMatchObject([{ serial: a, online: true, installation: 'PIPE-INST-00000' }]);
  });

  it("keeps a device's past: a new value at a stored instant is rejected, kept as evidence, after a restart too; gaps fill only within physics", async () => {
    const [serial] = await registerFleet('PAST', 1, { perInstallation: 1, ratedAcW: 5000 });
    const topic = telemetryTopic(serial!);
    const first = await startIngest();
    const t = Date.now() - 48 * 3_600_000;
    await publish(topic, JSON.stringify([reading(t, 2_990_000), reading(t + 3_600_000, 2_994_000)]));
    // At once, before the journal has shipped them: the worker's own journal counts as stored.
    await publish(topic, JSON.stringify(reading(t, 2_000)));
    await waitFor(
      'the conflict judged and the readings shipped',
      async () => [
        await ingestMetric(first.proc.port, 'ingest_rejected_total{reason="conflicting_reading"}'),
        await countPoints(influx, 'telemetry', bySerialPrefix('PAST')),
      ],
      (n) => n.join() === '1,2',
    );
    await first.proc.stop('SIGTERM');
    // A fresh worker knows nothing in memory: the stored history judges.
    const { proc } = await startIngest({}, first);
    await publish(topic, JSON.stringify(reading(t, 2_999_999)));
    await publish(topic, JSON.stringify(reading(t, 2_990_000))); // the same values: a harmless duplicate
    // A gap fill that fits between the stored neighbours, and one that does not (4.5 kWh in 30 min).
    await publish(topic, JSON.stringify([reading(t + 1_800_000, 2_992_000), reading(t + 2_400_000, 2_997_000)]));
    await waitFor(
      'judged',
      async () => [
        await ingestMetric(proc.port, 'ingest_rejected_total{reason="conflicting_reading"}'),
        await ingestMetric(proc.port, 'ingest_readings_duplicate_total'),
        await ingestMetric(proc.port, 'ingest_rejected_total{reason="implausible_value"}'),
        await ingestMetric(proc.port, 'ingest_readings_accepted_total'),
      ],
      (n) => n.join() === '1,1,1,1',
    );
    await waitFor(
      'journal drained',
      () => ingestHealth(proc.port),
      (h) => h.journalBacklogBytes === 0,
    );
    const rows = await influx.rows(`SELECT "energy_wh_total" FROM "telemetry" WHERE ${bySerialPrefix('PAST')}`);
    expect(rows.map((r) => [r.time, r.energy_wh_total])).toEqual([
      [t, 2_990_000],
      [t + 1_800_000, 2_992_000],
      [t + 3_600_000, 2_994_000],
    ]);
    const evidence = await influx.rows(
      `SELECT "detail", "payload" FROM "rejected"."rejected_message" WHERE "reason" = 'conflicting_reading' AND "serial" = '${serial}'`,
    );
    expect(evidence.map((e) => String(e.payload))).toEqual([
      expect.stringContaining('"energy_wh_total":2000'),
      expect.stringContaining('"energy_wh_total":2999999'),
    ]);
    expect(String(evidence[0]!.detail)).toMatch(/energy_wh_total=2990000.*the stored one stays/);
  });

  it('costs one record per rejected message, within a per-device budget, under a short retention (no amplification)', async () => {
    const [flooder, bystander] = await registerFleet('AMP', 2, { perInstallation: 1 });
    const { proc } = await startIngest();
    const future = Date.now() + 86_400_000;
    // One message of 4,990 future-dated readings (~0.5 MB): one point, not 4,990.
    const flood = Array.from({ length: 4990 }, (_, i) => reading(future + i * 1000, i));
    await publish(telemetryTopic(flooder!), JSON.stringify(flood));
    // Then 40 malformed messages, more than the device's burst of records.
    for (let i = 0; i < 40; i++) await publish(telemetryTopic(flooder!), `{"bad": ${i}`);
    await publish(telemetryTopic(bystander!), '{"bad"'); // another device's budget is its own
    await waitFor(
      'every rejection counted',
      () => ingestMetric(proc.port, 'ingest_rejected_total{reason="malformed_json"}'),
      (n) => n === 41,
    );
    expect(await ingestMetric(proc.port, 'ingest_rejected_total{reason="timestamp_in_future"}')).toBe(4990);
    await waitFor(
      'journal drained',
      () => ingestHealth(proc.port),
      (h) => h.journalBacklogBytes === 0,
    );
    const records = await influx.rows(
      `SELECT "reason", "readings", "payload", "payload_bytes", "truncated", "detail" FROM "rejected"."rejected_message" WHERE "serial" = '${flooder}'`,
    );
    expect(records).toHaveLength(20); // the burst: the flood's record and 19 malformed ones
    expect(records[0]).toMatchObject({ reason: 'timestamp_in_future', readings: 4990, truncated: true });
    expect(String(records[0]!.detail)).toMatch(
      /^4990 readings rejected \(timestamp_in_future ×4990\); first: reading \[0\]: ts /,
    );
    expect(String(records[0]!.payload).length).toBeLessThanOrEqual(16_384);
    expect(await ingestMetric(proc.port, 'ingest_rejections_unrecorded_total')).toBe(21);
    expect(await countPoints(influx, 'rejected"."rejected_message', `"serial" = '${bystander}'`)).toBe(1);
    // Nothing of it sits in the raw (400-day) retention.
    expect(await countPoints(influx, 'rejected_message', `"serial" = '${flooder}'`)).toBe(0);
  });

  it('rejects each kind of bad input with its reason, keeps it for inspection, and stores the valid messages around it', async () => {
    const [good, weak] = await registerFleet('BAD', 2, { perInstallation: 2, ratedAcW: 3000 });
    const { proc } = await startIngest();
    const base = Date.now() - 3_600_000;
    const bad: [string, string | Buffer, string][] = [
      [telemetryTopic(good!), '{"ts": 1, "energy_wh_total": ', 'malformed_json'],
      [telemetryTopic(good!), JSON.stringify(reading(base, 'lots' as never)), 'invalid_reading'],
      [telemetryTopic(good!), JSON.stringify({ ts: base, ac_power_w: 5, state: 'MPPT' }), 'invalid_reading'],
      [telemetryTopic(weak!), JSON.stringify(reading(base, 5, 1_000_000)), 'implausible_value'],
      [telemetryTopic(good!), JSON.stringify(reading(Date.now() + 86_400_000, 5)), 'timestamp_in_future'],
      [telemetryTopic('NOT-REGISTERED-1'), JSON.stringify(reading(base, 5)), 'unknown_device'],
      [telemetryTopic(good!), Buffer.alloc(1_500_000, 0x20), 'payload_too_large'],
      [`solar/v1/${good}/telemetry/extra`, JSON.stringify(reading(base, 5)), 'bad_topic'],
      [statusTopic(good!), 'sleepy', 'invalid_status'],
    ];
    let k = 0;
    for (const [topic, payload] of bad) {
      await publish(telemetryTopic(good!), JSON.stringify(reading(base + k++ * 1000, k)));
      await publish(topic, payload);
    }
    await publish(telemetryTopic(good!), JSON.stringify(reading(base + k++ * 1000, k)));

    await waitFor(
      'all valid readings stored',
      () => countPoints(influx, 'telemetry', bySerialPrefix('BAD')),
      (n) => n === k,
    );
    await waitFor(
      'rejections stored',
      () => countPoints(influx, 'rejected"."rejected_message', `"worker" = '${proc.port}' OR true`),
      (n) => n >= bad.length,
    );
    const rejected = await influx.rows(
      `SELECT "reason", "detail", "payload_bytes", "topic" FROM "rejected"."rejected_message" WHERE time > ${base}ms`,
    );
    const reasons = rejected.map((r) => r.reason);
    for (const [, , reason] of bad) expect(reasons).toContain(reason);
    const detailOf = (reason: string) =>
      rejected
        .filter((r) => r.reason === reason)
        .map((r) => String(r.detail))
        .join(' | ');
    expect(detailOf('invalid_reading')).toMatch(/energy_wh_total/);
    expect(detailOf('implausible_value')).toMatch(/rating \(3000 W\)/);
    expect(detailOf('payload_too_large')).toMatch(/1500000 bytes/);
    expect(detailOf('unknown_device')).toMatch(/NOT-REGISTERED-1/);
    for (const [, , reason] of bad)
      expect(await ingestMetric(proc.port, `ingest_rejected_total{reason="${reason}"}`)).toBeGreaterThanOrEqual(1);
  });

  it("records a packet the broker cut for size against the device's account, naming its client id (from the broker's log), once for two workers", async () => {
    const [serial] = await registerFleet('CUT', 1, { perInstallation: 1 });
    const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
    const password = await provisionDevice(admin, serial!);
    const { proc, group, worker } = await startIngest();
    const two = await startIngest(
      {},
      { dataDir: mkdtempSync(join(tmpdir(), 'ingest-test-')), group, worker: `${worker}b` },
    );
    dataDirs.push(two.dataDir);
    const clientId = `datalogger-${process.pid}`;
    const device = mqtt.connect(readMqttConfig(env, 'ADMIN').url, {
      username: serial,
      password,
      clientId,
      protocolVersion: 4, // as many dataloggers speak: MQTT 5 clients are told the limit at connect
      reconnectPeriod: 0,
    });
    try {
      await new Promise((resolve, reject) => device.once('connect', resolve).once('error', reject));
      const closed = new Promise((resolve) => device.once('close', () => resolve('closed')));
      // Just over max_packet_size (2 MiB): the broker closes the connection; ingest never sees it.
      device.publish(telemetryTopic(serial!), Buffer.alloc(2_098_000, 0x20), { qos: 1 });
      expect(await closed).toBe('closed');
      // Each worker reads the broker's log and counts the cut; both write the same record.
      for (const port of [proc.port, two.proc.port])
        await waitFor(
          'the cut counted',
          () => ingestMetric(port, `ingest_broker_packets_cut_total{account="${serial}"}`),
          (n) => n === 1,
        );
      expect(await ingestMetric(proc.port, 'ingest_rejected_total{reason="packet_too_large"}')).toBe(1);
      const records = () =>
        influx.rows(
          `SELECT "serial", "detail", "worker" FROM "rejected"."rejected_message" WHERE "reason" = 'packet_too_large' AND "serial" = '${serial}'`,
        );
      await waitFor(
        'the journals drained',
        () => ingestHealth(two.proc.port),
        (h) => h.journalBacklogBytes === 0,
      );
      await waitFor(
        'the journals drained',
        () => ingestHealth(proc.port),
        (h) => h.journalBacklogBytes === 0,
      );
      const [record, ...more] = await records();
      expect(more).toEqual([]);
      expect(record).toMatchObject({ worker: 'broker' });
      expect(String(record!.detail)).toContain(`client id '${clientId}'`);
      expect(proc.output()).toMatch(/the broker cut a packet over its size limit/);
    } finally {
      device.end(true);
      await revokeDevice(admin, serial!);
      await admin.close();
    }
  });

  it('keeps every character of a string field through InfluxDB (line breaks, commas, quotes, backslashes)', async () => {
    const [serial] = await registerFleet('TEXT', 1, { perInstallation: 1 });
    const { proc } = await startIngest();
    const ts = Date.now() - 600_000;
    const events = ['LINE\nBREAK', 'CR\rLF', 'a,b', 'say "hi"', 'back\\slash\\n', 'فارسی'];
    await publish(telemetryTopic(serial!), JSON.stringify(reading(ts, 10, 100, { events })));
    await waitFor(
      'the reading',
      () => countPoints(influx, 'telemetry', bySerialPrefix('TEXT')),
      (n) => n === 1,
    );
    const [row] = await influx.rows(`SELECT "events" FROM "telemetry" WHERE ${bySerialPrefix('TEXT')}`);
    expect(JSON.parse(String(row!.events))).toEqual(events);
    expect(await ingestMetric(proc.port, 'ingest_rejected_total{reason="processing_error"}')).toBe(0);
  });

  it('rejects a deeply nested payload and impossible calendar timestamps as invalid readings with their reasons', async () => {
    const [serial] = await registerFleet('DEEP', 1, { perInstallation: 1 });
    const { proc } = await startIngest();
    const base = Date.now() - 3_600_000;
    const depth = 50_000;
    await publish(telemetryTopic(serial!), `${'['.repeat(depth)}${']'.repeat(depth)}`);
    await publish(
      telemetryTopic(serial!),
      JSON.stringify(reading(base, 1, 100, { events: 'NESTED' })).replace(
        '"NESTED"',
        `${'['.repeat(depth)}"x"${']'.repeat(depth)}`,
      ),
    );
    for (const ts of ['2024-02-31T10:00:00Z', '2024-02-29T24:00:00Z', '2023-02-29T10:00:00Z', '2024-03-01T10:60:00Z'])
      await publish(telemetryTopic(serial!), JSON.stringify(reading(ts as never, 2)));
    await publish(telemetryTopic(serial!), JSON.stringify(reading(base, 3)));
    await waitFor(
      'the valid reading after them',
      () => countPoints(influx, 'telemetry', bySerialPrefix('DEEP')),
      (n) => n === 1,
    );
    await waitFor(
      'six rejections',
      () => ingestMetric(proc.port, 'ingest_rejected_total{reason="invalid_reading"}'),
      (n) => n === 6,
    );
    expect(await ingestMetric(proc.port, 'ingest_rejected_total{reason="processing_error"}')).toBe(0);
    const rejected = await influx.rows(
      `SELECT "detail", "payload" FROM "rejected"."rejected_message" WHERE "serial" = '${serial}' AND "reason" = 'invalid_reading'`,
    );
    const details = rejected.map((r) => String(r.detail)).sort();
    expect(details).toEqual(
      [
        `reading: events.0: Expected string (got ${'['.repeat(17)}…${']'.repeat(17)})`,
        "reading: ts '2023-02-29T10:00:00Z' is not a calendar date",
        "reading: ts '2024-02-29T24:00:00Z' is not a time of day (hours 00-23, minutes and seconds 00-59)",
        "reading: ts '2024-02-31T10:00:00Z' is not a calendar date",
        "reading: ts '2024-03-01T10:60:00Z' is not a time of day (hours 00-23, minutes and seconds 00-59)",
        'reading [0]: expected an object, got an array',
      ].sort(),
    );
  });

  it('follows the registry while running: a newly registered device is accepted, a decommissioned one is not', async () => {
    const { proc } = await startIngest();
    const serial = `LIVE${process.pid}`;
    const base = Date.now() - 600_000;
    const known = Number((await ingestHealth(proc.port)).registryDevices);
    const [registered] = await registerFleet(serial, 1, { perInstallation: 1 });
    await waitFor(
      'the registry reload',
      () => ingestHealth(proc.port),
      (h) => Number(h.registryDevices) === known + 1,
    );
    await publish(telemetryTopic(registered!), JSON.stringify(reading(base, 10)));
    await waitFor(
      "the new device's reading",
      () => countPoints(influx, 'telemetry', bySerialPrefix(serial)),
      (n) => n === 1,
    );

    const devicesBefore = Number((await ingestHealth(proc.port)).registryDevices);
    await withPg((c) => c.query(`UPDATE inverters SET status = 'DECOMMISSIONED' WHERE serial = $1`, [registered]));
    await waitFor(
      'the registry to drop the device',
      () => ingestHealth(proc.port),
      (h) => Number(h.registryDevices) === devicesBefore - 1,
    );
    // Counted from here: retained status messages that earlier suites left on the broker (of devices
    // this registry does not know) were delivered, and rejected, when ingest subscribed.
    const rejectedBefore = await ingestMetric(proc.port, 'ingest_rejected_total{reason="unknown_device"}');
    await publish(telemetryTopic(registered!), JSON.stringify(reading(base + 1000, 11)));
    await waitFor(
      'the rejection',
      () => ingestMetric(proc.port, 'ingest_rejected_total{reason="unknown_device"}'),
      (n) => n === rejectedBefore + 1,
    );
    expect(await countPoints(influx, 'telemetry', bySerialPrefix(serial))).toBe(1);
  });

  it('loses nothing when ingest is killed mid-burst and restarted (broker redelivers, journal replays)', async () => {
    const serials = await registerFleet('KILL', 200);
    const first = await startIngest({
      INGEST_FLUSH_INTERVAL_MS: '1500',
      INGEST_BATCH_MAX_BYTES: '4000000',
      LOG_LEVEL: 'info',
    });
    const clients = [publisher, await connectFleetClient(`kill-pub-${process.pid}`)];
    const readings = 30_000;
    const burst = publishBurst(clients, { serials, readings, baseTs: Date.now() - 7_200_000 });
    await waitFor(
      'journaled data not yet in InfluxDB',
      () => ingestHealth(first.proc.port),
      (h) => Number(h.journalBacklogBytes) > 0,
      30_000,
      20,
    );
    await first.proc.stop('SIGKILL');
    running.splice(running.indexOf(first.proc), 1);
    const result = await burst;
    await clients[1]!.endAsync();
    expect(result.published).toBe(readings);

    await startIngest({}, first);
    await waitFor(
      `${readings} readings stored`,
      () => countPoints(influx, 'telemetry', bySerialPrefix('KILL')),
      (n) => n >= readings,
      90_000,
      500,
    );
    expect(await countPoints(influx, 'telemetry', bySerialPrefix('KILL'))).toBe(readings);
    expect(first.proc.output()).toMatch(/ingest running/);
  });

  it('loses nothing while InfluxDB is down, holds acknowledgements at the backlog limit, and catches up', async () => {
    const serials = await registerFleet('DOWN', 100);
    const { proc } = await startIngest({ INGEST_JOURNAL_MAX_BACKLOG_BYTES: '300000', INFLUX_TIMEOUT_MS: '2000' });
    const services = (action: string) =>
      execFileSync('bash', ['ops/services.sh', action, 'influxdb'], { env: process.env, stdio: 'pipe' });
    const readings = 12_000;
    const baseTs = Date.now() - 7_200_000;
    try {
      await publishBurst([publisher], { serials, readings: 3000, baseTs });
      services('stop');
      // The first burst used rounds 0-29 (seconds after baseTs); continue a minute later.
      const during = publishBurst([publisher], { serials, readings: 9000, baseTs: baseTs + 60_000 });
      const held = await waitFor(
        'acknowledgements held at the backlog limit',
        () => ingestHealth(proc.port),
        (h) => h.acksHeld === true,
        60_000,
        100,
      );
      expect(held.influxWritesHealthy).toBe(false);
      expect(Number(held.journalBacklogBytes)).toBeGreaterThan(300_000 * 0.9); // held until back under 90 % of the limit
      expect((await during).published).toBe(9000); // the broker took them all while ingest held its acks
    } finally {
      services('start');
    }
    await waitFor(
      `${readings} readings stored`,
      () => countPoints(influx, 'telemetry', bySerialPrefix('DOWN')),
      (n) => n >= readings,
      90_000,
      500,
    );
    expect(await countPoints(influx, 'telemetry', bySerialPrefix('DOWN'))).toBe(readings);
    const health = await waitFor(
      'healthy again',
      () => ingestHealth(proc.port),
      (h) => h.influxWritesHealthy === true && h.acksHeld === false,
    );
    expect(health.journalBacklogBytes).toBe(0);
  });

  it('keeps readings in its journal, not in dead-letter, while InfluxDB refuses the writer, and stores them all once the password is right', async () => {
    const serials = await registerFleet('AUTH', 50);
    const wrong = `wrong-writer-password-${process.pid}`;
    const first = await startIngest({ INFLUX_WRITER_PASSWORD: wrong, LOG_LEVEL: 'info' });
    const readings = 2000;
    const result = await publishBurst([publisher], { serials, readings, baseTs: Date.now() - 7_200_000 });
    expect(result.published).toBe(readings); // acknowledged to the broker: ingest took responsibility
    await waitFor(
      'every reading accepted into the journal',
      () => ingestMetric(first.proc.port, 'ingest_readings_accepted_total'),
      (n) => n >= readings,
    );
    const refused = await waitFor(
      'the writer refused',
      () => ingestHealth(first.proc.port),
      (h) => h.influxWritesHealthy === false && h.influxWriterRefused === true,
    );
    expect(Number(refused.journalBacklogBytes)).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 2000)); // several retries
    const deadLetter = join(first.dataDir, `worker-${first.worker}`, 'dead-letter');
    expect(existsSync(deadLetter) ? readdirSync(deadLetter) : []).toEqual([]);
    expect(await countPoints(influx, 'telemetry', bySerialPrefix('AUTH'))).toBe(0);
    await first.proc.stop('SIGTERM');
    running.splice(running.indexOf(first.proc), 1);
    const log = first.proc.output();
    expect(log.match(/InfluxDB refused the writer/g)?.length).toBe(1); // once, not per retry
    expect(log).toMatch(/INFLUX_WRITER_PASSWORD/);
    expect(log).not.toContain(wrong);

    const second = await startIngest({}, first); // the profile's (right) password, the same journal
    await waitFor(
      `${readings} readings stored`,
      () => countPoints(influx, 'telemetry', bySerialPrefix('AUTH')),
      (n) => n >= readings,
      60_000,
      500,
    );
    expect(await countPoints(influx, 'telemetry', bySerialPrefix('AUTH'))).toBe(readings);
    const health = await waitFor(
      'healthy writes',
      () => ingestHealth(second.proc.port),
      (h) => h.influxWritesHealthy === true && h.journalBacklogBytes === 0,
    );
    expect(health.influxWriterRefused).toBe(false);
    expect(existsSync(deadLetter) ? readdirSync(deadLetter) : []).toEqual([]);
  });

  it('splits the load between two workers on one shared subscription, storing everything once', async () => {
    const serials = await registerFleet('PAIR', 100);
    const one = await startIngest();
    const two = await startIngest(
      {},
      { dataDir: mkdtempSync(join(tmpdir(), 'ingest-test-')), group: one.group, worker: `${one.worker}b` },
    );
    dataDirs.push(two.dataDir);
    const readings = 10_000;
    const result = await publishBurst([publisher], { serials, readings, baseTs: Date.now() - 7_200_000 });
    expect(result.published).toBe(readings);
    await waitFor(
      `${readings} readings stored`,
      () => countPoints(influx, 'telemetry', bySerialPrefix('PAIR')),
      (n) => n >= readings,
      60_000,
      250,
    );
    const accepted = [
      await ingestMetric(one.proc.port, 'ingest_readings_accepted_total'),
      await ingestMetric(two.proc.port, 'ingest_readings_accepted_total'),
    ];
    expect(accepted[0]).toBeGreaterThan(readings * 0.2);
    expect(accepted[1]).toBeGreaterThan(readings * 0.2);
    expect(accepted[0]! + accepted[1]!).toBe(readings);
    expect(await countPoints(influx, 'telemetry', bySerialPrefix('PAIR'))).toBe(readings);
  });
});
