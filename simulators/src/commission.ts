// Commissioning check for one inverter: are its credentials accepted, does the platform store its
// readings under the right installation, does it see its status? Each check passes or fails with
// a reason the technician can act on.
import mqtt from 'mqtt';
import pg from 'pg';
import { type InfluxClient, influxString } from '../../lib/influx/client';
import { statusTopic, telemetryTopic } from '../../lib/telemetry/contract';
import { registeredInverter } from '../../registry/index';
import type { DeviceCredentials } from './device-connection';
import { type EpochCounter, epochCounters } from './stored-counters';
import { endClient } from '../../lib/mqtt/end-client';

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
  /**
   * The inverter's lifetime counter as its display shows it (Wh): for a counter the platform does not
   * know (the serial never reported, or it was replaced without the new counter recorded and has not
   * reported since). Refused where the platform knows the counter.
   */
  counterWh?: number;
  /** How long InfluxDB keeps raw readings (INFLUX_RAW_RETENTION; ingest refuses older ones): default for ever. */
  rawRetentionMs?: number;
}

/** How far inside the raw retention a burst that follows a reading past it is stamped (publishing takes seconds). */
const RETENTION_MARGIN_MS = 600_000;

export async function commission(o: CommissionOptions): Promise<CommissionReport> {
  const checks: CommissionCheck[] = [];
  const done = (): CommissionReport => ({ ok: checks.every((c) => c.ok), checks });

  const db = new pg.Client({ connectionString: o.databaseUrl });
  await db.connect();
  const [device, epochs] = await Promise.all([
    registeredInverter(db, o.serial),
    epochCounters(o.influx, db, { serial: o.serial }),
  ]).finally(() => db.end());
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

  const start = burstStart(o, epochs.get(o.serial));
  checks.push(start.check);
  if (!start.check.ok) {
    // A clean disconnect: the broker drops the last will (no 'offline' over the inverter's own status).
    await endClient(client, 2000);
    return done();
  }
  const serial = influxString(o.serial);
  const startedMs = Date.now();
  // The burst follows the instant its counter is known at, about a second a reading: the counter was
  // then what the burst says (within the noise: a few seconds of any rating), however much the
  // inverter produced since, so its own next reading rises from the burst as its rating allows. A
  // burst stamped now would claim the counter has not moved since: the inverter's own next reading,
  // a rise of all it produced meanwhile, refused at the door. With no known instant: the last seconds.
  // Strictly after that instant, closer together when it was under `readings` seconds ago: a reading
  // at or before a replacement is the old inverter's, where the new counter reads as a reset that
  // billing counts as energy. Off the whole seconds a logger may stamp its readings at (one may be in
  // flight, and the burst's reading at its instant would be a conflict): from a whole second, a step
  // prime to 1000 (999 ms at most) puts none of the burst's readings on one.
  // A reading past the raw retention may still be stored (InfluxDB drops a whole shard group, up to a
  // week of readings, once all of it is past), but ingest refuses a burst stamped there: the burst
  // then follows the oldest instant ingest takes, the counter unchanged since.
  const oldestMs = startedMs - (o.rawRetentionMs ?? Number.POSITIVE_INFINITY) + RETENTION_MARGIN_MS;
  const knownAtMs = Math.max(start.atMs ?? startedMs - (o.readings + 1) * 1000, oldestMs);
  const sinceMs = Math.min(knownAtMs, startedMs - o.readings - 1); // a reading stamped ahead of this clock: just before now
  let stepMs = Math.min(999, Math.floor((startedMs - sinceMs) / (o.readings + 1)));
  while (stepMs % 2 === 0 || stepMs % 5 === 0) stepMs -= 1;
  const firstMs = sinceMs + stepMs;
  const lastMs = sinceMs + o.readings * stepMs;
  try {
    await client.publishAsync(statusTopic(o.serial), 'online', { qos: 1, retain: true });
    const ratedW = device?.ratedAcW ?? 1000;
    const burst = Array.from({ length: o.readings }, (_, i) => ({
      ts: firstMs + i * stepMs,
      energy_wh_total: start.wh + 0.001 * (i + 1),
      ac_power_w: Math.round(ratedW * 0.01),
      state: 'MPPT',
      events: ['COMMISSIONING'],
    }));
    await client.publishAsync(telemetryTopic(o.serial), JSON.stringify(burst), { qos: 1 });
    checks.push({
      name: 'test burst published (QoS 1)',
      ok: true,
      detail: `${o.readings} readings from ${iso(firstMs)}`,
    });
  } catch (error) {
    checks.push({
      name: 'test burst published (QoS 1)',
      ok: false,
      detail: `the broker refused the publish (${(error as Error).message}): the account may not publish under solar/v1/${o.serial}/`,
    });
    client.end(true);
    return done();
  } finally {
    await endClient(client, 2000);
  }

  const since = `time >= ${firstMs}ms AND time <= ${lastMs}ms`;
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

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Where the burst's counter starts, as a check: the counter of the serial's current epoch
 * (`epochCounters`). Any other would be a reset or a jump in billing's data (after a recorded
 * replacement, the old inverter's total read as the new counter's rise: energy no one produced), and
 * the inverter's own next reading a rise no rating allows, refused at ingest's door. Where the
 * platform knows no counter, the display's is the only evidence (required then); billing counts nothing
 * of the first reading of a counter whose start is unknown (its counter model, rule 5), whatever it says.
 */
function burstStart(
  o: CommissionOptions,
  epoch: EpochCounter | undefined,
): { check: CommissionCheck; wh: number; atMs?: number } {
  const result = (ok: boolean, detail: string, wh = 0, atMs?: number) => ({
    check: { name: 'counter to continue', ok, detail },
    wh,
    atMs,
  });
  if (epoch && epoch.wh !== null) {
    const known = `${epoch.wh} Wh, ${epoch.from === 'stored' ? 'stored' : 'recorded with its replacement'} at ${iso(epoch.atMs)}`;
    return o.counterWh === undefined
      ? result(true, known, epoch.wh, epoch.atMs)
      : result(
          false,
          `the platform knows ${o.serial}'s counter (${known}): --counter-wh is for a counter it does not know`,
        );
  }
  if (o.counterWh !== undefined)
    return result(
      true,
      `${o.counterWh} Wh as given (--counter-wh): the first reading of a counter new to the platform`,
      o.counterWh,
    );
  // No counter known: any guess (0 Wh) would make the inverter's own first readings a jump from it,
  // refused at ingest's door and held for review in billing, unless its counter is that guess.
  const unknown = epoch
    ? `${o.serial} was replaced at ${iso(epoch.atMs)} without its new counter recorded and has reported nothing since`
    : `the platform has no counter of ${o.serial} (it never reported, or its readings are past retention)`;
  return result(
    false,
    `${unknown}: read the lifetime counter (Wh) on the inverter's display and run again with --counter-wh N (0 for a new inverter)`,
  );
}
