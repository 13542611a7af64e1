// The flood drill's misbehaving device, in a process of its own as a real device is: publishing 1 MB
// messages takes this process's CPU, which in the drill's own process delayed the fleet's readings
// before they were even sent. Usage: flooder.ts SERIAL VALID_MS INVALID_MS HUGE_MS (how long each
// phase lasts at most; SIGUSR2 ends the phase under way, for a drill that floods until the broker
// shows an effect); prints one JSON line: per phase, the messages sent, those the broker
// acknowledged and how long it lasted (ms).
import { telemetryTopic } from '../../../lib/telemetry/contract';
import { sleep } from '../../../testing/drills';
import { connectFleetClient } from '../../../testing/services';

let connections = 0;
let phaseEnded = false;
process.on('SIGUSR2', () => {
  phaseEnded = true;
});
/**
 * Publishes `payload()` from one connection as fast as the broker acknowledges (up to 200 in flight)
 * for `ms`, reconnecting at once when the broker closes it; then drops the connection with whatever
 * it still had in flight.
 */
async function flood(serial: string, payload: (i: number) => string | Buffer, ms: number) {
  const client = await connectFleetClient(`flooder-${process.pid}-${++connections}`, { reconnectPeriod: 50 });
  const started = Date.now();
  const until = started + ms;
  let sent = 0;
  let acked = 0;
  phaseEnded = false;
  const inFlight = new Set<Promise<unknown>>();
  while (Date.now() < until && !phaseEnded) {
    const p = client.publishAsync(telemetryTopic(serial), payload(sent++), { qos: 1 }).then(
      () => {
        acked += 1;
      },
      () => undefined,
    );
    inFlight.add(p);
    void p.then(() => inFlight.delete(p));
    // Yield either way: a loop that never does keeps every message in the socket's buffer unsent.
    if (inFlight.size >= 200) await Promise.race([...inFlight, sleep(Math.max(0, until - Date.now()))]);
    else await new Promise((resolve) => setImmediate(resolve));
  }
  client.end(true);
  return { sent, acked, ms: Date.now() - started };
}

const [serial = '', validMs, invalidMs, hugeMs] = process.argv.slice(2);
const now = Date.now();
const valid = await flood(
  serial,
  (i) => JSON.stringify({ ts: now + i, energy_wh_total: 1000, ac_power_w: 100, state: 'MPPT' }),
  Number(validMs),
);
const junk = Buffer.alloc(1_000_000, 0x61);
junk.write('{"x":', 0);
const invalid = await flood(serial, () => junk, Number(invalidMs));
const oversized = Buffer.alloc(1_500_000, 0x20); // over the payload limit
const huge = await flood(serial, () => oversized, Number(hugeMs));
process.stdout.write(`${JSON.stringify({ valid, invalid, huge })}\n`);
process.exit(0);
