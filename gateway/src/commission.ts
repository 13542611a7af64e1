// Commissioning a gateway, as a technician does it at the site: scan the Modbus bus, identify each
// inverter, check it against the platform's registry, provision the gateway's broker account for
// exactly those inverters, write the gateway's configuration (mode 0600: it holds the password),
// publish one reading and confirm it was stored. Each step is a line of a checklist; a step that
// fails says what to fix, and the steps after it are not attempted (a dry run stops before
// anything is provisioned or written).
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { resolveRegisterMap } from '../../lib/registers/maps/index';
import type { GatewayConfigFile } from './config';
import { Gateway } from './gateway';
import { type OpenedDevice, openDevice } from './inverter-poller';
import { type LinkConfig, linkName, ModbusLink } from './modbus/connection';

export interface CommissionStep {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about a failure. */
  fix?: string;
}

export interface CommissionOptions {
  gatewayId: string;
  link: LinkConfig;
  units: number[];
  /** A vendor register map to identify the devices by, instead of SunSpec. */
  map?: string;
  api: { url: string; username: string; password: string; ca?: Buffer };
  broker: { url: string; caFile: string };
  configPath: string;
  outboxDir: string;
  /** Where the gateway learns the time (the configuration's `time`; default ntp). */
  time?: GatewayConfigFile['time'];
  pollSeconds: number;
  dryRun: boolean;
  /** Modbus timeout per unit while scanning (a missing unit costs this much). */
  scanTimeoutMs?: number;
  /** How long to wait for the test reading to be stored. */
  confirmTimeoutMs?: number;
  onStep?: (step: CommissionStep) => void;
}

interface Found {
  unitId: number;
  device: OpenedDevice;
}

/** A JSON request to the platform's API; the reply's body (parsed) and status. */
async function callApi(
  api: CommissionOptions['api'],
  method: string,
  path: string,
  body?: unknown,
  token?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL(path, api.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        timeout: 15_000,
        ...(api.ca ? { ca: api.ca } : {}),
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = text ? JSON.parse(text) : {};
          } catch {
            parsed = { message: text.slice(0, 200) };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (error) => reject(new Error(`${url.origin}: ${error.message}`)));
    req.end(payload);
  });
}

const message = (body: Record<string, unknown>) => String(body.message ?? body.error ?? JSON.stringify(body));

export async function commission(o: CommissionOptions): Promise<{ ok: boolean; steps: CommissionStep[] }> {
  const steps: CommissionStep[] = [];
  const step = (s: CommissionStep): boolean => {
    steps.push(s);
    o.onStep?.(s);
    return s.ok;
  };
  const done = () => ({ ok: steps.every((s) => s.ok), steps });
  const map = o.map ? resolveRegisterMap(o.map) : undefined;
  const where = linkName(o.link);

  // 1. Scan: every unit id, one at a time (one request at a time on a bus).
  const link = new ModbusLink(o.link, o.scanTimeoutMs ?? 1000);
  const found: Found[] = [];
  const silent: string[] = [];
  try {
    for (const unitId of o.units) {
      try {
        found.push({ unitId, device: await openDevice(link.unit(unitId), map) });
      } catch (error) {
        silent.push(`unit ${unitId}: ${(error as Error).message}`);
      }
    }
  } finally {
    await link.close();
  }
  const unitList = `${o.units[0]}-${o.units[o.units.length - 1]}`;
  if (
    !step({
      name: 'scan',
      ok: found.length > 0,
      detail:
        found.length > 0
          ? `${found.length} inverter(s) on ${where}: ${found
              .map(
                (f) =>
                  `unit ${f.unitId} ${f.device.identity.serial} (` +
                  `${[f.device.identity.manufacturer, f.device.identity.model].filter(Boolean).join(' ')}, ` +
                  `${f.device.identity.ratedAcW ?? '?'} W, ${f.device.how})`,
              )
              .join('; ')}`
          : `no inverter answered on units ${unitList} of ${where} (${silent[0] ?? 'no units'})`,
      fix:
        `check the cable/network to ${where}, that Modbus is enabled on the inverter (many ship with Modbus TCP ` +
        `off), its unit id, and for a non-SunSpec inverter --map`,
    })
  )
    return done();

  // 2. Registry: each inverter registered and active; the registry's rating is the one used.
  let token: string;
  try {
    const signIn = await callApi(o.api, 'POST', '/auth/staff/sign-in', {
      username: o.api.username,
      password: o.api.password,
    });
    if (signIn.status !== 200) throw new Error(`sign-in refused (${signIn.status}): ${message(signIn.body)}`);
    token = String(signIn.body.token);
  } catch (error) {
    step({
      name: 'registry',
      ok: false,
      detail: `cannot use the platform's API at ${o.api.url}: ${(error as Error).message}`,
      fix: 'check --api, the technician account (username, password) and the site link',
    });
    return done();
  }
  const rated = new Map<string, number>();
  const problems: string[] = [];
  for (const { device } of found) {
    const { serial, ratedAcW } = device.identity;
    const answer = await callApi(o.api, 'GET', `/inverters/${encodeURIComponent(serial)}`, undefined, token);
    if (answer.status === 404) problems.push(`${serial} is not registered`);
    else if (answer.status !== 200) problems.push(`${serial}: ${message(answer.body)}`);
    else if (answer.body.status !== 'ACTIVE') problems.push(`${serial} is decommissioned`);
    else {
      const registryW = Number(answer.body.ratedAcW);
      rated.set(serial, registryW);
      if (ratedAcW !== null && Math.abs(ratedAcW - registryW) > registryW * 0.05)
        problems.push(`${serial}: the registry says ${registryW} W, the inverter's nameplate says ${ratedAcW} W`);
    }
  }
  if (
    !step({
      name: 'registry',
      ok: problems.length === 0,
      detail: problems.length === 0 ? `${found.length} registered and active, ratings agree` : problems.join('; '),
      fix:
        'register missing inverters (POST /inverters, or the inverters import) with the serial the inverter ' +
        'reports, or correct the rating; then commission again',
    })
  )
    return done();
  if (o.dryRun) {
    step({ name: 'dry run', ok: true, detail: 'nothing provisioned, no configuration written' });
    return done();
  }

  // 3. Provision the gateway's broker account for exactly these inverters (a new password).
  const serials = found.map((f) => f.device.identity.serial);
  const provisioned = await callApi(
    o.api,
    'PUT',
    `/gateways/${encodeURIComponent(o.gatewayId)}`,
    { serials, rekey: true },
    token,
  );
  if (
    !step({
      name: 'provision',
      ok: provisioned.status === 200 && typeof provisioned.body.password === 'string',
      detail:
        provisioned.status === 200
          ? `broker account ${provisioned.body.username} may publish for ${serials.join(', ')}`
          : `refused (${provisioned.status}): ${message(provisioned.body)}`,
      fix: 'an inverter that belongs to another gateway must be removed from it first; a 503 means the broker is away',
    })
  )
    return done();

  // 4. The gateway's configuration, readable by its owner only.
  const config: GatewayConfigFile = {
    gatewayId: o.gatewayId,
    broker: {
      url: o.broker.url,
      caFile: o.broker.caFile,
      username: String(provisioned.body.username),
      password: String(provisioned.body.password),
    },
    ...(o.time ? { time: o.time } : {}),
    pollSeconds: o.pollSeconds,
    outbox: { dir: o.outboxDir },
    links: [
      {
        ...o.link,
        inverters: found.map(({ unitId, device }) => ({
          serial: device.identity.serial,
          unitId,
          ratedAcW: rated.get(device.identity.serial)!,
          ...(o.map ? { map: o.map } : {}),
        })),
      } as GatewayConfigFile['links'][number],
    ],
  };
  try {
    writeFileSync(o.configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  } catch (error) {
    step({
      name: 'configuration',
      ok: false,
      detail: `cannot write ${o.configPath}: ${(error as Error).message}`,
      fix: 'run as the gateway user, or choose --out',
    });
    return done();
  }
  step({ name: 'configuration', ok: true, detail: `${o.configPath} (mode 600)` });

  // 5. One poll and its publication over TLS, as the gateway will run.
  const startedAt = Date.now();
  const gateway = new Gateway(config, { log: () => undefined });
  let published = false;
  try {
    gateway.publisher.start();
    const poll = await gateway.pollOnce();
    const drained = poll.readings > 0 && (await gateway.publisher.drained(30_000));
    published = drained && poll.readings === serials.length;
    step({
      name: 'test publish',
      ok: published,
      detail: published
        ? `${poll.readings} reading(s) published to ${o.broker.url}`
        : poll.readings < serials.length
          ? `${poll.readings} of ${serials.length} inverters gave a reading: ${poll.errors.join('; ') || 'the time is not trusted yet'}`
          : `not acknowledged by the broker: ${
              gateway.publisher.lastError ??
              (gateway.publisher.waitingForTime ? `the time is not trusted (${gateway.time.lastProblem})` : 'no answer')
            }`,
      fix:
        'a register error names the register to check on the inverter; otherwise check the broker URL and port, ' +
        'the CA file, and that the site link reaches the broker (the readings wait in the outbox)',
    });
  } finally {
    await gateway.stop();
  }
  if (!published) return done();

  // 6. Stored: the platform has each inverter's reading (ingest → InfluxDB).
  const until = Date.now() + (o.confirmTimeoutMs ?? 60_000);
  let waiting = serials;
  while (waiting.length > 0 && Date.now() < until) {
    const still: string[] = [];
    for (const serial of waiting) {
      const last = await callApi(
        o.api,
        'GET',
        `/inverters/${encodeURIComponent(serial)}/last-reading`,
        undefined,
        token,
      );
      if (last.status !== 200 || Date.parse(String(last.body.ts)) < startedAt - 60_000) still.push(serial);
    }
    waiting = still;
    if (waiting.length > 0) await new Promise((r) => setTimeout(r, 1000));
  }
  step({
    name: 'stored',
    ok: waiting.length === 0,
    detail:
      waiting.length === 0
        ? `the platform stored a reading of ${serials.join(', ')}`
        : `no reading stored for ${waiting.join(', ')}`,
    fix: "the broker accepted it but the platform did not store it: check the platform's ingest health (/healthz) and its rejected messages",
  });
  return done();
}
