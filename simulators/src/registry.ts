// Registers simulated inverters in the platform's registry (a 5 kW-roof-style installation each),
// so that a demo or test fleet is accepted by ingest. Idempotent.
import { createPrisma } from '../../lib/db';
import type { PlannedInverter } from './scenario';

export async function registerSimulatedFleet(planned: PlannedInverter[], databaseUrl: string): Promise<number> {
  const prisma = createPrisma(databaseUrl);
  try {
    const provinces = new Map(
      (await prisma.province.findMany({ select: { id: true, code: true } })).map((p) => [p.code, p.id]),
    );
    const codeOf = (p: PlannedInverter) => `SIM-${p.spec.serial}`;
    await prisma.installation.createMany({
      skipDuplicates: true,
      data: planned.map((p) => ({
        code: codeOf(p),
        name: `Simulated ${p.spec.serial}`,
        provinceId: provinces.get(p.provinceCode)!,
        latitude: p.site.latitude,
        longitude: p.site.longitude,
        dcCapacityKwp: p.system.dcKwp,
        acRatingKw: p.system.ratedAcW / 1000,
        tiltDeg: p.system.tiltDeg,
        status: 'COMMISSIONED' as const,
      })),
    });
    const ids = new Map(
      (
        await prisma.installation.findMany({
          where: { code: { in: planned.map(codeOf) } },
          select: { id: true, code: true },
        })
      ).map((i) => [i.code, i.id]),
    );
    const { count } = await prisma.inverter.createMany({
      skipDuplicates: true,
      data: planned.map((p) => ({
        serial: p.spec.serial,
        installationId: ids.get(codeOf(p))!,
        ratedAcW: p.system.ratedAcW,
        model: 'simulated',
      })),
    });
    return count;
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
    const installations = await prisma.installation.findMany({
      where: { code: { in: planned.map((p) => `SIM-${p.spec.serial}`) }, contracts: { none: {} } },
      select: { id: true, code: true },
    });
    for (const inst of installations) {
      await prisma.contract.create({
        data: {
          installationId: inst.id,
          reference: `DEMO-${inst.code}`,
          kind: 'SUPPORT',
          startDate: new Date('2025-01-01'),
          tariffs: { create: { effectiveFrom: new Date('2025-01-01'), rialPerKwh: 30_000 } },
        },
      });
    }
    return installations.length;
  } finally {
    await prisma.$disconnect();
  }
}
