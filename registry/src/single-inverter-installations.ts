// Installations of one inverter each, registered commissioned in one go: how simulated and demo
// fleets enter the registry so ingest accepts their readings, and how they get a contract so billing
// prices them. Idempotent: what exists already (by code, by serial) is left as it is.
import type { PrismaClient } from '../../lib/db';

export interface SingleInverterInstallation {
  code: string;
  name: string;
  provinceCode: string;
  latitude: number;
  longitude: number;
  dcCapacityKwp: number;
  acRatingKw: number;
  tiltDeg: number;
  inverter: { serial: string; ratedAcW: number; model: string };
}

/** Registers the installations and their inverters not registered yet; returns how many inverters it added. */
export async function registerSingleInverterInstallations(
  prisma: PrismaClient,
  installations: readonly SingleInverterInstallation[],
): Promise<number> {
  const provinces = new Map(
    (await prisma.province.findMany({ select: { id: true, code: true } })).map((p) => [p.code, p.id]),
  );
  await prisma.installation.createMany({
    skipDuplicates: true,
    data: installations.map((i) => ({
      code: i.code,
      name: i.name,
      provinceId: provinces.get(i.provinceCode)!,
      latitude: i.latitude,
      longitude: i.longitude,
      dcCapacityKwp: i.dcCapacityKwp,
      acRatingKw: i.acRatingKw,
      tiltDeg: i.tiltDeg,
      status: 'COMMISSIONED' as const,
    })),
  });
  const ids = new Map(
    (
      await prisma.installation.findMany({
        where: { code: { in: installations.map((i) => i.code) } },
        select: { id: true, code: true },
      })
    ).map((i) => [i.code, i.id]),
  );
  const { count } = await prisma.inverter.createMany({
    skipDuplicates: true,
    data: installations.map((i) => ({
      serial: i.inverter.serial,
      installationId: ids.get(i.code)!,
      ratedAcW: i.inverter.ratedAcW,
      model: i.inverter.model,
    })),
  });
  return count;
}

export interface ContractOffer {
  /** The contract's reference is this followed by the installation's code. */
  referencePrefix: string;
  kind: 'ORDINARY' | 'SUPPORT';
  startDate: Date;
  rialPerKwh: number;
}

/** Gives each of these installations that has no contract yet one, with one tariff from its start; returns how many. */
export async function addContractsWhereNone(
  prisma: PrismaClient,
  installationCodes: readonly string[],
  offer: ContractOffer,
): Promise<number> {
  const installations = await prisma.installation.findMany({
    where: { code: { in: [...installationCodes] }, contracts: { none: {} } },
    select: { id: true, code: true },
  });
  for (const inst of installations) {
    await prisma.contract.create({
      data: {
        installationId: inst.id,
        reference: `${offer.referencePrefix}${inst.code}`,
        kind: offer.kind,
        startDate: offer.startDate,
        tariffs: { create: { effectiveFrom: offer.startDate, rialPerKwh: offer.rialPerKwh } },
      },
    });
  }
  return installations.length;
}
