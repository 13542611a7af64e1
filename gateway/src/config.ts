// The gateway's configuration file (JSON, mode 0600: it holds the broker password), validated
// at start with an error naming the field. Commissioning writes it. Only what differs per site is
// required (the gateway's id, its broker account, its inverters); the rest has defaults
// (GATEWAY_DEFAULTS, DEFAULT_FLEET), written down in gateway/README.md.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { resolveRegisterMap } from '../../lib/registers/maps/index';
import { SERIAL_PATTERN } from '../../lib/telemetry/contract';
import { DEFAULT_FLEET, type Fleet } from './fleet';

/**
 * A poll every 10 s (the benchmarked load; 8,640 readings a day per inverter), and an outbox of
 * 64 MiB (a reading takes ~250 bytes on disk: 30 days of 5 inverters at one a minute, or 3 days
 * of 8 every 10 s) in the unit's state directory.
 */
export const GATEWAY_DEFAULTS = {
  pollSeconds: 10,
  outboxMaxBytes: 64 * 1024 * 1024,
  /** systemd's StateDirectory= (the unit's /var/lib/solar-gateway) when it says so, else that path. */
  outboxDir: (env: NodeJS.ProcessEnv = process.env) =>
    join(env.STATE_DIRECTORY?.split(':')[0] || '/var/lib/solar-gateway', 'outbox'),
};

const Inverter = Type.Object(
  {
    serial: Type.String({ pattern: SERIAL_PATTERN }),
    unitId: Type.Integer({ minimum: 0, maximum: 255 }),
    ratedAcW: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000 })),
    /** An inverter without SunSpec: a built-in register map's id, or the path of a map file. */
    map: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
const Link = Type.Union([
  Type.Object(
    {
      kind: Type.Literal('tcp'),
      host: Type.String({ minLength: 1 }),
      port: Type.Integer({ minimum: 1, maximum: 65535 }),
      inverters: Type.Array(Inverter, { minItems: 1 }),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      kind: Type.Literal('rtu'),
      path: Type.String({ minLength: 1 }),
      baudRate: Type.Integer({ minimum: 1200, maximum: 921600 }),
      parity: Type.Optional(Type.Union([Type.Literal('none'), Type.Literal('even'), Type.Literal('odd')])),
      inverters: Type.Array(Inverter, { minItems: 1 }),
    },
    { additionalProperties: false },
  ),
]);

export const GatewayConfigFile = Type.Object(
  {
    gatewayId: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,47}$' }),
    broker: Type.Object(
      {
        url: Type.String({ pattern: '^mqtts://' }),
        caFile: Type.String({ minLength: 1 }),
        username: Type.String({ minLength: 1 }),
        password: Type.String({ minLength: 1 }),
        /** Reconnect back-off: full jitter over [0, min(maxMs, initialMs × 2^attempt)). */
        backoff: Type.Optional(
          Type.Object(
            {
              initialMs: Type.Integer({ minimum: 10, maximum: 60_000 }),
              maxMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
    /**
     * Where the gateway learns the time it stamps readings with (src/time.ts). Default `ntp`: the
     * system clock while systemd-timesyncd says it is synchronised; `https`: the Date of the
     * platform's HTTPS server, verified (broker.caFile unless caFile); `system`: the clock as is.
     */
    time: Type.Optional(
      Type.Union([
        Type.Object(
          { source: Type.Literal('ntp'), syncedFile: Type.Optional(Type.String({ minLength: 1 })) },
          { additionalProperties: false },
        ),
        Type.Object(
          {
            source: Type.Literal('https'),
            url: Type.String({ pattern: '^https://' }),
            caFile: Type.Optional(Type.String({ minLength: 1 })),
            resyncSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
          },
          { additionalProperties: false },
        ),
        Type.Object({ source: Type.Literal('system') }, { additionalProperties: false }),
      ]),
    ),
    pollSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600, default: GATEWAY_DEFAULTS.pollSeconds })),
    outbox: Type.Optional(
      Type.Object(
        {
          dir: Type.Optional(Type.String({ minLength: 1 })),
          maxBytes: Type.Optional(Type.Integer({ minimum: 2 * 1024 * 1024, default: GATEWAY_DEFAULTS.outboxMaxBytes })),
        },
        { additionalProperties: false },
      ),
    ),
    /** The fleet this gateway is one of (src/fleet.ts): sizes its reconnect window and catch-up pace. */
    fleet: Type.Optional(
      Type.Object(
        {
          gateways: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000, default: DEFAULT_FLEET.gateways })),
          connectsPerSecond: Type.Optional(
            Type.Number({ exclusiveMinimum: 0, maximum: 100_000, default: DEFAULT_FLEET.connectsPerSecond }),
          ),
          readingsPerSecond: Type.Optional(
            Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000, default: DEFAULT_FLEET.readingsPerSecond }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    links: Type.Array(Link, { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type GatewayConfigFile = Static<typeof GatewayConfigFile>;
/** The configuration with every default filled in. */
export type GatewayConfig = Omit<GatewayConfigFile, 'pollSeconds' | 'outbox' | 'fleet'> & {
  pollSeconds: number;
  outbox: { dir: string; maxBytes: number };
  fleet: Fleet;
};
export type LinkWithInverters = GatewayConfig['links'][number];

const checker = TypeCompiler.Compile(GatewayConfigFile);

/** The file's settings with the defaults for what it leaves out. */
export function withDefaults(file: GatewayConfigFile, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  return {
    ...file,
    pollSeconds: file.pollSeconds ?? GATEWAY_DEFAULTS.pollSeconds,
    outbox: {
      dir: file.outbox?.dir ?? GATEWAY_DEFAULTS.outboxDir(env),
      maxBytes: file.outbox?.maxBytes ?? GATEWAY_DEFAULTS.outboxMaxBytes,
    },
    fleet: { ...DEFAULT_FLEET, ...file.fleet },
  };
}

/** What JSON.parse said, without the text it quotes, and the line and column when it says where. */
function jsonMistake(text: string, message: string): string {
  const kind = message
    .replace(/,? *(?:\.\.\.)?"[\s\S]*$/, '')
    .replace(/^Unexpected token '.*?'/s, 'Unexpected token')
    .replace(/ in JSON at position \d+.*$/s, '');
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined) return kind;
  const before = text.slice(0, Number(position)).split('\n');
  return `${kind} at line ${before.length}, column ${before.at(-1)!.length + 1}`;
}

export function parseGatewayConfig(text: string, source: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    // V8 quotes the text around the mistake ("...password": 'abc"...): the kind of mistake and where only.
    throw new Error(`${source}: not JSON: ${jsonMistake(text, (error as Error).message)}`);
  }
  const first = checker.Errors(data).First();
  if (first) throw new Error(`${source}: ${first.path || '/'}: ${first.message}`);
  const config = withDefaults(data as GatewayConfigFile, env);
  const serials = config.links.flatMap((l) => l.inverters.map((i) => i.serial));
  const twice = serials.find((s, i) => serials.indexOf(s) !== i);
  if (twice) throw new Error(`${source}: /links: serial ${twice} is configured twice`);
  for (const [l, link] of config.links.entries())
    for (const [i, inverter] of link.inverters.entries()) {
      if (inverter.map === undefined) continue;
      try {
        resolveRegisterMap(inverter.map);
      } catch (error) {
        throw new Error(`${source}: /links/${l}/inverters/${i}/map: ${(error as Error).message}`);
      }
    }
  return config;
}

export function loadGatewayConfig(path: string): GatewayConfig {
  // The file holds the broker password: refuse one that others can read.
  if ((statSync(path).mode & 0o077) !== 0)
    throw new Error(`${path}: readable by other users; it holds the broker password (chmod 600 ${path})`);
  return parseGatewayConfig(readFileSync(path, 'utf8'), path);
}
