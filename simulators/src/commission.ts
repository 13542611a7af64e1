// Commissioning check for one inverter: are its credentials accepted, does the platform store its
// readings under the right installation, does it see its status? Each check passes or fails with
// a reason the technician can act on.
import mqtt from 'mqtt';
import pg from 'pg';
import { type InfluxClient, influxString } from '../../lib/influx/client';
import { statusTopic, telemetryTopic } from '../../lib/telemetry/contract';
import { registeredInverter } from '../../registry/index';
import type { DeviceCredentials } from './device-connection';

export interface CommissionCheck {
  name: string;
  ok: boolean;
  detail?: string;
}
export interface CommissionReport {
  ok: boolean;
  checks: CommissionCheck[];
}

export interface CommissionOptions {
  serial: string;
  credentials: DeviceCredentials;
  influx: InfluxClient;
  databaseUrl: string;
  timeoutMs: number;
  readings: number;
}

export async function commission(o: CommissionOptions): Promise<CommissionReport> {
  const checks: CommissionCheck[] = [];
  const done = (): CommissionReport => ({ ok: checks.every((c) => c.ok), checks });

  const db = new pg.Client({ connectionString: o.databaseUrl });
  await db.connect();
  const device = await registeredInverter(db, o.serial).finally(() => db.end());
  checks.push(
    device
      ? {
          name: 'inverter registered',
          ok: device.status === 'ACTIVE',
          detail: `installation ${device.installationCode}${device.status === 'ACTIVE' ? '' : `, but status ${device.status}`}`,
        }
      : {
          name: 'inverter registered',
          ok: false,
          detail: `serial ${o.serial} is not in the registry: register it before commissioning`,
        },
  );

  const client = mqtt.connect(o.credentials.url, {
    username: o.credentials.username,
    password: o.credentials.password,
    clientId: `commission-${o.serial}-${Date.now()}`,
    reconnectPeriod: 0,
    connectTimeout: Math.min(o.timeoutMs, 15_000),
    will: { topic: statusTopic(o.serial), payload: Buffer.from('offline'), qos: 1, retain: true },
  });
  const connected = await new Promise<string | null>((resolve) => {
    client.once('connect', () => resolve(null));
    client.once('error', (e) => resolve(e.message));
    setTimeout(() => resolve('no answer from the broker'), Math.min(o.timeoutMs, 15_000));
  });
  checks.push({
    name: 'broker accepted the credentials',
    ok: connected === null,
    detail: connected === null ? `as ${o.credentials.username}` : connected,
  });
  if (connected !== null) {
    client.end(true);
    return done();
  }

  const serial = influxString(o.serial);
  // The burst continues the serial's stored counter (a repaired or re-checked inverter has one): a
  // counter back near zero would be a reset in billing's data, and the inverter's own next reading,
  // back at its counter, a rise no rating allows, refused at ingest's door.
  const [latest] = await o.influx.rows(
    `SELECT last("energy_wh_total") AS "wh" FROM "telemetry" WHERE "serial" = ${serial}`,
  );
  const counterWh = Number(latest?.wh ?? 0);
  const startedMs = Date.now();
  try {
    await client.publishAsync(statusTopic(o.serial), 'online', { qos: 1, retain: true });
    const ratedW = device?.ratedAcW ?? 1000;
    const burst = Array.from({ length: o.readings }, (_, i) => ({
      ts: startedMs - (o.readings - 1 - i) * 1000,
      energy_wh_total: counterWh + 0.001 * (i + 1),
      ac_power_w: Math.round(ratedW * 0.01),
      state: 'MPPT',
      events: ['COMMISSIONING'],
    }));
    await client.publishAsync(telemetryTopic(o.serial), JSON.stringify(burst), { qos: 1 });
    checks.push({ name: 'test burst published (QoS 1)', ok: true, detail: `${o.readings} readings` });
  } catch (error) {
    checks.push({
      name: 'test burst published (QoS 1)',
      ok: false,
      detail: `the broker refused the publish (${(error as Error).message}): the account may not publish under solar/v1/${o.serial}/`,
    });
    client.end(true);
    return done();
  } finally {
    await client.endAsync().catch(() => undefined);
  }

  const since = `time >= ${startedMs - o.readings * 1000 - 1000}ms`;
  const deadline = Date.now() + o.timeoutMs;
  let stored: Record<string, unknown>[] = [];
  let status: Record<string, unknown>[] = [];
  let rejected: Record<string, unknown>[] = [];
  while (Date.now() < deadline) {
    [stored, status, rejected] = await Promise.all([
      o.influx.rows(
        `SELECT "energy_wh_total", "installation" FROM "telemetry" WHERE "serial" = ${serial} AND ${since}`,
      ),
      o.influx.rows(
        `SELECT "online" FROM "device_status" WHERE "serial" = ${serial} AND time >= ${startedMs - 1000}ms`,
      ),
      o.influx.rows(
        `SELECT "reason", "detail" FROM "rejected"."rejected_message" WHERE "serial" = ${serial} AND time >= ${startedMs - 1000}ms`,
      ),
    ]);
    if (stored.length >= o.readings && status.length > 0) break;
    if (rejected.length > 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  const installations = [...new Set(stored.map((r) => r.installation))];
  checks.push(
    stored.length >= o.readings
      ? { name: 'readings stored by the platform', ok: true, detail: `${stored.length}/${o.readings}` }
      : {
          name: 'readings stored by the platform',
          ok: false,
          detail:
            rejected.length > 0
              ? `rejected: ${rejected.map((r) => `${r.reason} (${r.detail})`).join('; ')}`
              : `${stored.length}/${o.readings} after ${Math.round(o.timeoutMs / 1000)} s: is ingest running?`,
        },
  );
  if (stored.length > 0) {
    checks.push({
      name: 'stored under the right installation',
      ok: installations.length === 1 && installations[0] === device?.installationCode,
      detail: `tagged ${installations.join(', ')}${device ? `, registry says ${device.installationCode}` : ''}`,
    });
  }
  checks.push({
    name: 'status seen by the platform',
    ok: status.some((s) => s.online === true),
    detail: status.length ? 'online' : 'no status recorded',
  });
  return done();
}
