// Registers simulated inverters in the platform's registry (a 5 kW-roof-style installation each),
// so that a demo or test fleet is accepted by ingest. Idempotent.
import { createPrisma } from '../../lib/db';
import { addContractsWhereNone, registerSingleInverterInstallations } from '../../registry/index';
import type { PlannedInverter } from './scenario';

const codeOf = (p: PlannedInverter) => `SIM-${p.spec.serial}`;

export async function registerSimulatedFleet(planned: PlannedInverter[], databaseUrl: string): Promise<number> {
  const prisma = createPrisma(databaseUrl);
  try {
    return await registerSingleInverterInstallations(
      prisma,
      planned.map((p) => ({
        code: codeOf(p),
        name: `Simulated ${p.spec.serial}`,
        provinceCode: p.provinceCode,
        latitude: p.site.latitude,
        longitude: p.site.longitude,
        dcCapacityKwp: p.system.dcKwp,
        acRatingKw: p.system.ratedAcW / 1000,
        tiltDeg: p.system.tiltDeg,
        inverter: { serial: p.spec.serial, ratedAcW: p.system.ratedAcW, model: 'simulated' },
      })),
    );
  } finally {
    await prisma.$disconnect();
  }
}

/**
 * Gives each simulated installation a support contract (30,000 Rial/kWh, the published rate for
 * low-income support plants) so a demo fleet is priced by billing; without shares its net income
 * shows in the program pool. Idempotent; installations that already have a contract are left alone.
 */
export async function addDemoContracts(planned: PlannedInverter[], databaseUrl: string): Promise<number> {
  const prisma = createPrisma(databaseUrl);
  try {
    return await addContractsWhereNone(prisma, planned.map(codeOf), {
      referencePrefix: 'DEMO-',
      kind: 'SUPPORT',
      startDate: new Date('2025-01-01'),
      rialPerKwh: 30_000,
    });
  } finally {
    await prisma.$disconnect();
  }
}
