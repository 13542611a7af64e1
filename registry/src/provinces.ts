// Provinces are named by their code everywhere outside the registry (`yazd`, `lib/provinces.csv`).
import type { Prisma } from '../../prisma/generated/client/client';
import { invalidField } from './errors';

/** The id of the province with this code; refused, naming the field `province`, when there is none. */
export async function provinceIdOf(db: Prisma.TransactionClient, code: string): Promise<number> {
  const province = await db.province.findUnique({ where: { code } });
  if (!province) throw invalidField('province', `unknown province code '${code}'`);
  return province.id;
}
