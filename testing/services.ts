// Helpers shared by integration tests and benchmarks: real services from the profile's environment.
import { spawn, type ChildProcess } from 'node:child_process';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import {
  readDatabaseOwnerUrl,
  readDatabaseUrl,
  readInfluxConfig,
  readMqttConfig,
  type InfluxConfig,
  type InfluxRole,
} from '../lib/config';
import { appAccountOf, ensureAppRole } from '../lib/db-roles';
import { InfluxClient } from '../lib/influx/client';
import { ensureInfluxLayout } from '../lib/influx/layout';
import { grantInfluxDatabase } from '../lib/influx/users';
import { brokerLogin as brokerLoginAs } from '../lib/mqtt/service-accounts';
import mqtt, { type MqttClient } from 'mqtt';
import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { loadProvinces } from '../lib/provinces';
import { inTransaction } from '../lib/transaction';

export const env = process.env;
/** As the platform connects: the application role (owns no table). */
export const databaseUrl = () => readDatabaseUrl(env);
/** As migrations and fixtures that rebuild or bypass the guards connect: the tables' owner. */
export const ownerDatabaseUrl = () => readDatabaseOwnerUrl(env);
/** The same database as `url`, as the owner. */
export function asOwner(url: string): string {
  const owner = new URL(ownerDatabaseUrl());
  const target = new URL(url);
  target.username = owner.username;
  target.password = owner.password;
  return target.toString();
}
export const fleetMqtt = () => readMqttConfig(env, 'FLEET');

/** Tries to connect to the broker as this account: 'connected', or the broker's refusal. */
export const brokerLogin = (username: string, password: string) =>
  brokerLoginAs({ url: readMqttConfig(env, 'ADMIN').url, username, password });

/**
 * Connects as this account (over TLS to MQTT_TLS_URL, verifying its CA, when `tls`): the client,
 * or the broker's refusal as text.
 */
export const connectAs = (username: string, password: string, options: { tls?: boolean } = {}) =>
  new Promise<MqttClient | string>((resolve) => {
    const client = mqtt.connect(options.tls ? env.MQTT_TLS_URL! : readMqttConfig(env, 'ADMIN').url, {
      ...(options.tls ? { ca: readFileSync(env.MQTT_TLS_CA_FILE!) } : {}),
      username,
      password,
      clientId: `as-${username}-${Date.now()}`,
      reconnectPeriod: 0,
      connectTimeout: 5000,
    });
    client.once('connect', () => resolve(client));
    client.once('error', (e) => {
      client.end(true);
      resolve(e.message);
    });
  });

/** The topics (and payloads) published under `filter`, as the ingest account receives them. */
export async function watchTopics(
  filter = 'solar/v1/#',
): Promise<{ seen: string[]; messages: { topic: string; payload: string }[]; close(): Promise<void> }> {
  const ingest = readMqttConfig(env, 'INGEST');
  const watcher = await mqtt.connectAsync(ingest.url, {
    username: ingest.username,
    password: ingest.password,
    clientId: `watch-${process.pid}-${Date.now()}`,
  });
  const seen: string[] = [];
  const messages: { topic: string; payload: string }[] = [];
  watcher.on('message', (topic, payload) => {
    seen.push(topic);
    messages.push({ topic, payload: payload.toString() });
  });
  await watcher.subscribeAsync(filter, { qos: 1 });
  return { seen, messages, close: () => watcher.endAsync() };
}

/**
 * A fresh InfluxDB database with the platform's layout, for one suite or benchmark run, made as the
 * admin (the returned client and config are the admin's: fixtures write and rebuild rollups with
 * them), with the writer granted WRITE and the reader READ on it, so components started with
 * `INFLUX_DATABASE: database` and the profile's environment work with their own users.
 */
export async function freshInfluxDatabase(database: string): Promise<{ influx: InfluxClient; config: InfluxConfig }> {
  const config = { ...readInfluxConfig(env, 'ADMIN'), database };
  const influx = new InfluxClient(config);
  await influx.query(`DROP DATABASE "${database}"`, { database: null });
  await ensureInfluxLayout(influx, config.rawRetention);
  await grantPlatformUsers(database);
  return { influx, config };
}

/** The platform's writer and reader get their access to a test's or benchmark's own database (idempotent). */
export async function grantPlatformUsers(database: string): Promise<void> {
  await grantInfluxDatabase(influxAs('ADMIN', database), database, {
    writer: readInfluxConfig(env, 'WRITER').username!,
    reader: readInfluxConfig(env, 'READER').username!,
  });
}

/** A client of one InfluxDB user (`READER` for what dashboards and billing see) on a database. */
export function influxAs(role: InfluxRole, database = env.INFLUX_DATABASE ?? 'solar'): InfluxClient {
  return new InfluxClient({ ...readInfluxConfig(env, role), database });
}

/** A connection as the owner (or to `url`), for fixtures (registering fleets, creating databases). */
export async function withPg<T>(fn: (client: pg.Client) => Promise<T>, url = ownerDatabaseUrl()): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Registers installations with `perInstallation` inverters each; serials are `${prefix}${n}`. Idempotent. */
export async function registerFleet(
  prefix: string,
  inverters: number,
  options: { perInstallation?: number; ratedAcW?: number; province?: string } = {},
): Promise<string[]> {
  const perInstallation = options.perInstallation ?? 10;
  const serials = Array.from({ length: inverters }, (_, i) => `${prefix}${String(i).padStart(6, '0')}`);
  await withPg((client) =>
    inTransaction(client, async () => {
      const installations = Math.ceil(inverters / perInstallation);
      await client.query(
        `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, status, updated_at)
       SELECT $1 || '-INST-' || lpad(g::text, 5, '0'), 'test installation', p.id, p.latitude, p.longitude, 5 * $3::int, 5 * $3::int, 'COMMISSIONED', now()
       FROM generate_series(0, $2::int - 1) g, provinces p WHERE p.code = $4
       ON CONFLICT (code) DO NOTHING`,
        [prefix, installations, perInstallation, options.province ?? 'yazd'],
      );
      await client.query(
        `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at)
       SELECT s.serial, i.id, $3, 'test', now()
       FROM unnest($1::text[]) WITH ORDINALITY AS s(serial, n)
       JOIN installations i ON i.code = $2 || '-INST-' || lpad(((s.n - 1) / $4)::text, 5, '0')
       ON CONFLICT (serial) DO NOTHING`,
        [serials, prefix, options.ratedAcW ?? 5000, perInstallation],
      );
    }),
  );
  return serials;
}

export async function connectFleetClient(clientId: string, options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const config = fleetMqtt();
  const client = mqtt.connect(config.url, {
    username: config.username,
    password: config.password,
    clientId,
    reconnectPeriod: 500,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}

export async function countPoints(influx: InfluxClient, measurement: string, where = ''): Promise<number> {
  const field =
    measurement === 'telemetry' ? 'energy_wh_total' : measurement === 'device_status' ? 'online' : 'payload_bytes';
  const rows = await influx.rows(`SELECT count("${field}") FROM "${measurement}"${where ? ` WHERE ${where}` : ''}`);
  return Number(rows[0]?.count ?? 0);
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    last = await probe();
  }
  return last;
}

export interface IngestProcess {
  child: ChildProcess;
  port: number;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Removes a finished test worker's persistent broker session. Left behind, it would keep a
 * subscription to solar/v1/# and queue every later message for a worker that never returns.
 */
export async function discardIngestSession(workerId: string): Promise<void> {
  const config = readMqttConfig(env, 'INGEST');
  const client = mqtt.connect(config.url, {
    username: config.username,
    password: config.password,
    clientId: `ingest-${workerId}`,
    protocolVersion: 5,
    clean: true,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.endAsync();
}

/** A worker's fair share lifted, for benchmarks and drills that send each device's readings at full rate. */
export const FAIR_SHARE_LIFTED = {
  INGEST_DEVICE_MESSAGES_PER_SECOND: '1000000',
  INGEST_DEVICE_MESSAGE_BURST: '100000000',
  INGEST_DEVICE_BYTES_PER_SECOND: '1073741824',
  INGEST_DEVICE_BYTE_BURST: '1073741824',
};

// Each checkout's test ports are moved by SOLAR_PORT_OFFSET (INGEST_HTTP_PORT already carries it):
// give each its own block of 50 ports, so two checkouts' tests never answer each other's health checks.
let nextPort = 29_500 + 5 * (Number(env.INGEST_HTTP_PORT ?? 29_464) - 29_464);
/**
 * Starts `ingest/src/main.ts` as a real child process and resolves once its health is `ready`: by
 * default subscribed (SUBACK on this connection), not merely connected, since a message published
 * before that is not routed to it; or holding a message its session kept (mqtt.js reads the SUBACK
 * behind it). A drill starting it while the broker is away asks for less.
 */
export async function startIngestProcess(
  overrides: Record<string, string>,
  ready: (health: Record<string, unknown>) => boolean = (h) =>
    h.subscribed === true || (h.mqttConnected === true && h.acksHeld === true),
): Promise<IngestProcess> {
  const port = nextPort++;
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'ingest/src/main.ts'], {
    env: { ...env, LOG_LEVEL: 'warn', INGEST_HTTP_PORT: String(port), ...overrides },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => {
    output += d;
  });
  child.stderr!.on('data', (d) => {
    output += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const handle: IngestProcess = {
    child,
    port,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  // A process that never got ready is killed, not left running (and receiving) after the test.
  await waitFor(
    `ingest on port ${port} to be healthy (output: ${output.slice(-500)})`,
    async () => {
      if (child.exitCode !== null) throw new Error(`ingest exited with ${child.exitCode}: ${output}`);
      return ingestHealth(port).catch(() => null);
    },
    (h) => h !== null && ready(h),
    60_000, // a start under a busy machine's load has taken over 30 s
    100,
  ).catch(async (error: Error) => {
    await handle.stop('SIGKILL');
    throw error;
  });
  return handle;
}

/** Ingest's /healthz: its body, and its HTTP status as `httpStatus` (200 ok, 503 not). */
export async function ingestHealth(port: number): Promise<Record<string, unknown>> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { httpStatus: response.status, ...((await response.json()) as Record<string, unknown>) };
}

export async function ingestMetric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** `url` (by default the platform's, as the application role) with its database replaced by `name`. */
export const pgUrlOf = (name: string, url = databaseUrl()) => url.replace(/\/[^/?]+(\?|$)/, `/${name}$1`);

/** An empty database `name` (dropped first if it is there); its URL as the application role. */
export async function emptyPgDatabase(name: string): Promise<string> {
  await withPg(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  return pgUrlOf(name);
}
/** Drops the database `name` (a suite's afterAll). */
export const dropPgDatabase = (name: string) => withPg((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));

/**
 * A fresh PostgreSQL database with every migration applied and the provinces seeded, for a suite
 * that needs a registry and ledger of its own (billing bills every installation it finds).
 */
/** Returns the database's URL as the application role; `asOwner(url)` for the owner's rights. */
export async function freshPgDatabase(name: string): Promise<string> {
  const url = await emptyPgDatabase(name);
  await withPg(async (client) => {
    const dir = 'prisma/migrations';
    for (const migration of readdirSync(dir)
      .filter((d) => /^\d{14}_/.test(d))
      .sort())
      await client.query(readFileSync(`${dir}/${migration}/migration.sql`, 'utf8'));
    for (const p of loadProvinces()) {
      await client.query(
        'INSERT INTO provinces (code, name_en, name_fa, capital_en, latitude, longitude) VALUES ($1, $2, $3, $4, $5, $6)',
        [p.code, p.nameEn, p.nameFa, p.capitalEn, p.latitude, p.longitude],
      );
    }
    await ensureAppRole(client, appAccountOf(url));
  }, asOwner(url));
  return url;
}

/** Line protocol written in 10,000-line batches, two requests in flight (what InfluxDB 1.6 takes best here). */
export function batchedLineWriter(influx: InfluxClient) {
  let batch: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const flush = async () => {
    const write = influx.write(batch.join('\n')).then(() => {
      inFlight.delete(write);
    });
    inFlight.add(write);
    batch = [];
    if (inFlight.size >= 2) await Promise.race(inFlight);
  };
  return {
    async add(line: string) {
      batch.push(line);
      if (batch.length >= 10_000) await flush();
    },
    async done() {
      if (batch.length > 0) await flush();
      await Promise.all(inFlight);
    },
  };
}

/** A TCP port on loopback that the system says is free now (for a process a test starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createNetServer();
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
