// The broker's accounts from the command line: device accounts that belong to no active inverter,
// and the simulated fleet's account (publishes for every serial) a deployment without simulators removes.
import { type Command, type Parsed, Refusal, usage } from '../../../lib/cli';
import { readDatabaseUrl, readMqttConfig } from '../../../lib/config';
import { createPrisma } from '../../../lib/db';
import { BrokerAdmin } from '../../../lib/mqtt/broker-admin';
import {
  ensureFleetAccount,
  fleetAccountExists,
  fleetAccountNote,
  removeFleetAccount,
} from '../../../lib/mqtt/service-accounts';
import { reconcileDevices } from '../device-reconciliation';

export const brokerAccountCommands: Record<string, Command> = {
  'reconcile-devices': {
    summary: 'remove orphaned broker device accounts; list active inverters without one',
    help: `Usage: npm run ops -- reconcile-devices

Removes broker device accounts that belong to no active inverter (left by failed requests) and
lists active inverters without one. The API also does this when it starts.`,
    run: async () => {
      const prisma = createPrisma(readDatabaseUrl(process.env));
      const admin = await BrokerAdmin.connect(readMqttConfig(process.env, 'ADMIN'));
      try {
        const r = await reconcileDevices(prisma, admin);
        console.log(
          `device accounts: ${r.deviceAccounts} on the broker, ${r.activeInverters} active inverters; removed ` +
            `${r.removed.length} orphaned account(s)${r.removed.length ? `: ${r.removed.join(', ')}` : ''}`,
        );
        if (r.missing.length > 0)
          console.log(
            `${r.missing.length} active inverter(s) without a broker account (issue credentials: POST ` +
              `/inverters/{serial}/credentials): ${r.missing.join(', ')}`,
          );
      } finally {
        await Promise.all([prisma.$disconnect(), admin.close()]);
      }
    },
  },
  'fleet-account': {
    summary: "the simulated fleet's broker account (publishes for every serial): status, ensure, remove",
    help: `Usage: npm run ops -- fleet-account status|ensure|remove

The broker account MQTT_FLEET_USERNAME (svc:simulated-fleet) may publish telemetry for every serial.
Setup never makes it: a simulated fleet (npm run sim, the demo seed, the tests) makes it when it
starts. On a deployment that runs no simulator, remove it:
  status   whether it exists
  ensure   make it (role simulated-fleet, password MQTT_FLEET_PASSWORD), as a fleet does
  remove   delete it (connected fleets are dropped); refuses an account that is not the fleet's`,
    run: async ({ positionals }: Parsed) => {
      const [action] = positionals;
      if (action !== 'status' && action !== 'ensure' && action !== 'remove')
        usage('give status, ensure or remove (see --help)');
      const name = readMqttConfig(process.env, 'FLEET').username;
      try {
        if (action === 'ensure') console.log(fleetAccountNote(process.env, await ensureFleetAccount(process.env)));
        else if (action === 'remove') {
          const outcome = await removeFleetAccount(process.env);
          console.log(
            outcome === 'removed'
              ? `fleet account ${name}: removed (a simulated fleet started later makes it again)`
              : `fleet account ${name}: absent, nothing to remove`,
          );
        } else console.log(`fleet account ${name}: ${(await fleetAccountExists(process.env)) ? 'exists' : 'absent'}`);
      } catch (error) {
        throw new Refusal(`fleet-account ${action}: ${(error as Error).message}`);
      }
    },
  },
};
