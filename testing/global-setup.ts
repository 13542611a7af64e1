// Once before the test files: the suites publish with the simulated fleet's broker account, which
// setup no longer makes (it exists only where a fleet runs), so the harness makes it, as a fleet does.
// Without a reachable broker (unit tests run with the services stopped) it only says so: the suites
// that need the broker fail on their own, with their own errors.
import { ensureFleetAccount } from '../lib/mqtt/service-accounts';

export default async function setup(): Promise<void> {
  if (!process.env.MQTT_URL) return;
  await ensureFleetAccount(process.env).catch((error: Error) =>
    console.warn(`the simulated fleet's broker account was not ensured: ${error.message}`),
  );
}
