// Provinces are named by their code everywhere outside the registry (`yazd`, `lib/provinces.csv`);
// setup makes the registry's list match lib/provinces.csv.
import type { PrismaClient } from '../../lib/db';
import type { ProvinceRecord } from '../../lib/provinces';
import type { Prisma } from '../../prisma/generated/client/client';
import { invalidField } from './errors';

/** The id of the province with this code; refused, naming the field `province`, when there is none. */
export async function provinceIdOf(db: Prisma.TransactionClient, code: string): Promise<number> {
  const province = await db.province.findUnique({ where: { code } });
  if (!province) throw invalidField('province', `unknown province code '${code}'`);
  return province.id;
}

/** Setup's part: adds the provinces missing and brings the others' names and capitals up to date (by code); returns how many there are. */
export async function upsertProvinces(prisma: PrismaClient, provinces: readonly ProvinceRecord[]): Promise<number> {
  for (const p of provinces) {
    await prisma.province.upsert({
      where: { code: p.code },
      create: p,
      update: {
        nameEn: p.nameEn,
        nameFa: p.nameFa,
        capitalEn: p.capitalEn,
        latitude: p.latitude,
        longitude: p.longitude,
      },
    });
  }
  return prisma.province.count();
}
