// Once before the test files: the suites publish with the simulated fleet's broker account, which
// setup no longer makes (it exists only where a fleet runs), so the harness makes it, as a fleet does.
import { ensureFleetAccount } from '../lib/mqtt/service-accounts';

export default async function setup(): Promise<void> {
  await ensureFleetAccount(process.env);
}
