// Broker device accounts against active inverters. A request can fail between the broker and
// PostgreSQL (transaction timeout, crash, lost connection): the account it made then belongs to no
// inverter. Reconciliation removes such orphans and reports active inverters without an account
// (re-key them with POST /inverters/{serial}/credentials). Run at API start and on demand.
import type { PrismaClient } from '../../prisma/generated/client/client';
import type { BrokerAdmin } from '../../lib/mqtt/broker-admin';
import { listDeviceAccounts, revokeDevice } from '../../lib/mqtt/device-accounts';
import { activeInverterSerials, DEVICE_REGISTRY_LOCK } from '../../registry';

export interface Reconciliation {
  deviceAccounts: number;
  activeInverters: number;
  /** Orphaned device accounts deleted from the broker. */
  removed: string[];
  /** Active inverters without a broker account. */
  missing: string[];
}

/** What to do, from the two lists. Pure. */
export function planReconciliation(accounts: string[], active: string[]): Pick<Reconciliation, 'removed' | 'missing'> {
  const activeSet = new Set(active);
  const accountSet = new Set(accounts);
  return {
    removed: accounts.filter((s) => !activeSet.has(s)).sort(),
    missing: active.filter((s) => !accountSet.has(s)).sort(),
  };
}

export async function reconcileDevices(prisma: PrismaClient, admin: BrokerAdmin): Promise<Reconciliation> {
  return prisma.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${DEVICE_REGISTRY_LOCK})`;
      const accounts = await listDeviceAccounts(admin);
      const active = await activeInverterSerials(tx);
      const plan = planReconciliation(accounts, active);
      for (const serial of plan.removed) await revokeDevice(admin, serial);
      return { deviceAccounts: accounts.length, activeInverters: active.length, ...plan };
    },
    { timeout: 10 * 60_000, maxWait: 60_000 },
  );
}
