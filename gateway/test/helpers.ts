// Test helpers for the gateway's tests: the gateway as the box runs it (the bundle under the
// systemd unit's node flags), a free TCP port, a link to the broker that can be cut, a socat
// pseudo-terminal pair, and the platform side a gateway publishes to (databases, a registered
// fleet, ingest, the gateway's own broker account), set up and torn down the same way by every
// end-to-end test.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { readMqttConfig } from '../../lib/config';
import type { InfluxClient } from '../../lib/influx/client';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { gatewayUsername, provisionGateway, removeGateway } from '../../lib/mqtt/gateway-accounts';
import {
  addDemoContracts,
  type PlannedInverter,
  parseScenario,
  planFleet,
  registerSimulatedFleet,
} from '../../simulators/index';
import {
  discardIngestSession,
  env,
  freshInfluxDatabase,
  freshPgDatabase,
  type IngestProcess,
  startIngestProcess,
} from '../../testing/services';

/** The one file that ships to the box (`npm run gateway:bundle`). */
export const GATEWAY_BUNDLE = '.data/gateway/solar-gateway.mjs';
const UNIT = readFileSync('gateway/deploy/solar-gateway.service', 'utf8');
/** The node flags of the systemd unit's ExecStart (its heap and compiler settings). */
export const UNIT_NODE_FLAGS = (/^ExecStart=\S*node((?: --\S+)*) /m.exec(UNIT)?.[1] ?? '')
  .trim()
  .split(' ')
  .filter(Boolean);
/** The systemd unit's Environment= settings. */
export const UNIT_ENVIRONMENT: Record<string, string> = Object.fromEntries(
  [...UNIT.matchAll(/^Environment=(.*)$/gm)].flatMap((m) =>
    m[1]!.split(/\s+/).map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
  ),
);

/** Builds the bundle (a second or two). */
export function buildGatewayBundle(): void {
  execFileSync(process.execPath, ['--import', 'tsx', 'gateway/bundle.ts'], { stdio: 'inherit' });
}

/** The bundled gateway under the unit's node flags, in `base` with the unit's environment, then `overrides`. */
export function spawnBundledGateway(
  args: string[],
  base: NodeJS.ProcessEnv,
  overrides: Record<string, string>,
  output: 'pipe' | 'ignore' = 'pipe',
): ChildProcess {
  return spawn(process.execPath, [...UNIT_NODE_FLAGS, GATEWAY_BUNDLE, ...args], {
    env: { ...base, ...UNIT_ENVIRONMENT, ...overrides },
    stdio: ['ignore', output, output === 'ignore' ? 'inherit' : 'pipe'],
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A TCP relay to the broker's TLS port that the test can cut (the site's mobile link). */
export class Link {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  up = true;
  /** When each connection came in (ms), refused or not: what the broker behind it would see. */
  readonly arrivals: number[] = [];
  constructor(
    readonly port: number,
    private readonly target: number,
  ) {}
  async start(): Promise<void> {
    this.server = createServer((inbound) => {
      this.arrivals.push(Date.now());
      if (!this.up) return inbound.destroy();
      const outbound = tcpConnect(this.target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      inbound.pipe(outbound).pipe(inbound);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }
  cut(): void {
    this.up = false;
    for (const s of this.sockets) s.destroy();
  }
  restore(): void {
    this.up = true;
  }
  close(): void {
    this.cut();
    this.server?.close();
  }
}

/** Two linked pseudo-terminals (a serial line without hardware); stop `socat` by its PID. */
export async function ptyPair(dir: string): Promise<{ a: string; b: string; socat: ChildProcess }> {
  const a = join(dir, 'ttyA');
  const b = join(dir, 'ttyB');
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(existsSync(a) && existsSync(b)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(a) || !existsSync(b)) throw new Error('socat made no pseudo-terminal pair');
  return { a, b, socat };
}

export interface PlatformBed {
  databaseUrl: string;
  influx: InfluxClient;
  ingest: IngestProcess;
  planned: PlannedInverter[];
  /** The gateway's broker account (`gw:{id}`) and its one-time password. */
  username: string;
  password: string;
  close(): Promise<void>;
}

/**
 * Fresh PostgreSQL and InfluxDB databases named `name`, the inverters registered (with demo
 * contracts when `contracts`), a real ingest process on them, and a broker account for gateway
 * `gatewayId` allowed exactly these inverters.
 */
export async function platformBed(o: {
  name: string;
  gatewayId: string;
  dir: string;
  seed: number;
  inverters: { serial: string; province: string; initialCounterWh: number }[];
  contracts?: boolean;
}): Promise<PlatformBed> {
  const databaseUrl = await freshPgDatabase(o.name);
  const { influx } = await freshInfluxDatabase(o.name);
  const planned = planFleet(
    parseScenario(
      JSON.stringify({
        seed: o.seed,
        inverters: o.inverters.map((i) => ({ ...i, dcKwp: 5, ratedAcW: 5000 })),
      }),
      `${o.name} scenario`,
    ),
  );
  await registerSimulatedFleet(planned, databaseUrl);
  if (o.contracts) await addDemoContracts(planned, databaseUrl);
  const worker = `${o.name.replaceAll('_', '')}${process.pid}`;
  const ingest = await startIngestProcess({
    DATABASE_URL: databaseUrl,
    INFLUX_DATABASE: o.name,
    INGEST_SHARE_GROUP: `${worker}-group`,
    INGEST_DATA_DIR: join(o.dir, 'ingest'),
    INGEST_WORKER_ID: worker,
  });
  const serials = o.inverters.map((i) => i.serial);
  const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
  const password = (await provisionGateway(admin, o.gatewayId, serials, { rekey: true }))!;
  await admin.close();
  return {
    databaseUrl,
    influx,
    ingest,
    planned,
    username: gatewayUsername(o.gatewayId),
    password,
    close: async () => {
      await ingest.stop();
      await discardIngestSession(worker);
      const admin = await BrokerAdmin.connect(readMqttConfig(env, 'ADMIN'));
      await removeGateway(admin, o.gatewayId);
      await admin.close();
    },
  };
}
