// npm run bench:gateway-provision — BENCH_GATEWAYS (2,000) gateways' broker accounts (each its own
// role for BENCH_GATEWAY_INVERTERS serials, 1 by default) made on the profile's broker through
// dynamic security, then removed: one gateway per call, as commissioning does through the API
// (PUT /gateways/{id}), and all in one call (provisionGateways, in batches). Reports each way's time,
// the slowest single call or batch (the broker does nothing else while it runs one), the time to
// provision one more gateway with the fleet on the broker, and the size of the broker's
// dynamic-security file, which Mosquitto 2.0 rewrites whole after every command that changes it.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readMqttConfig } from '../../lib/config';
import { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import * as accounts from '../../lib/mqtt/gateway-accounts';

const GATEWAYS = Number(process.env.BENCH_GATEWAYS ?? 2000);
const INVERTERS = Number(process.env.BENCH_GATEWAY_INVERTERS ?? 1);
/** Which ways to run, comma-separated: batched, one-by-one (the second takes far longer: BENCHMARKS.md). */
const MODES = (process.env.BENCH_GATEWAY_PROVISION_MODES ?? 'batched').split(',');
const progress = (m: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${m}\n`);
const DYNSEC_FILE = join(process.env.SOLAR_DATA_DIR ?? '.data/test', 'mosquitto', 'dynamic-security.json');
const fileMb = () => (existsSync(DYNSEC_FILE) ? Math.round(statSync(DYNSEC_FILE).size / 10_485.76) / 100 : null);

const fleet = Array.from({ length: GATEWAYS }, (_, g) => ({
  id: `prov${process.pid}-${g}`,
  serials: Array.from({ length: INVERTERS }, (_, k) => `GWP${process.pid}-${g}-${k}`),
}));
const admin = await BrokerAdmin.connect(readMqttConfig(process.env, 'ADMIN'));
progress(`the broker's dynamic-security file before: ${fileMb()} MB`);

/** Runs `step` over the fleet, returns the elapsed and slowest step's ms (a step reports when each part is done). */
async function timed(step: (mark: () => void) => Promise<void>) {
  const started = performance.now();
  let last = started;
  let slowest = 0;
  await step(() => {
    const now = performance.now();
    slowest = Math.max(slowest, now - last);
    last = now;
  });
  return { ms: performance.now() - started, slowestMs: slowest };
}

for (const mode of MODES) {
  progress(`${mode}: provisioning ${GATEWAYS} gateways (${INVERTERS} serials each)`);
  const made = await timed(async (mark) => {
    if (mode === 'batched') {
      await accounts.provisionGateways(admin, fleet, { rekey: true }, (done) => {
        mark();
        if (done % 250 === 0) progress(`${mode}: ${done} provisioned`);
      });
      return;
    }
    for (const [g, { id, serials }] of fleet.entries()) {
      await accounts.provisionGateway(admin, id, serials, { rekey: true });
      mark();
      if ((g + 1) % 250 === 0) progress(`${mode}: ${g + 1} provisioned`);
    }
  });
  const sizeMb = fileMb();
  progress(`${mode}: one more gateway with ${GATEWAYS} on the broker`);
  const one = await timed(async () => {
    await accounts.provisionGateway(admin, `prov${process.pid}-extra`, [`GWP${process.pid}-extra`], { rekey: true });
  });
  progress(`${mode}: one more gateway took ${Math.round(one.ms)} ms; the file is ${sizeMb} MB`);
  await accounts.removeGateway(admin, `prov${process.pid}-extra`);
  progress(`${mode}: removing them`);
  const removed = await timed(async (mark) => {
    if (mode === 'batched') {
      await accounts.removeGateways(
        admin,
        fleet.map((g) => g.id),
      );
      return;
    }
    for (const { id } of fleet) {
      await accounts.removeGateway(admin, id);
      mark();
    }
  });
  console.log(
    `BENCH ${JSON.stringify({
      name: 'gateway_provision',
      mode,
      gateways: GATEWAYS,
      serials_per_gateway: INVERTERS,
      provision_s: Math.round(made.ms / 100) / 10,
      per_gateway_ms: Math.round((made.ms / GATEWAYS) * 10) / 10,
      slowest_call_ms: Math.round(made.slowestMs),
      one_more_gateway_ms: Math.round(one.ms),
      remove_s: Math.round(removed.ms / 100) / 10,
      dynsec_file_mb: sizeMb,
    })}`,
  );
}
await admin.close();
