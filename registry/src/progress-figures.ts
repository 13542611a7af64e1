// The registry's side of program progress (the API's GET /progress, `npm run ops -- progress`):
// what is commissioned and who receives income on a day, by province, and the inverters expected
// to report. One query after another, not in parallel: on a small machine this background work
// must leave CPU for the requests being served.
import type { Prisma } from '../../prisma/generated/client/client';

export interface ProgressFigures {
  /** Every province, with its commissioned installations and their DC capacity (kWp, as text). */
  provinces: { code: string; name_fa: string; installations: number; kwp: string | null }[];
  /** Active beneficiaries holding a share in a commissioned installation on the day, by their province's code. */
  people: { code: string; people: number }[];
  /** Active inverters of commissioned installations, with the site's coordinates. */
  inverters: { serial: string; latitude: string; longitude: string }[];
}

/** `day` is a program (Tehran) date at UTC midnight, as shares start and end. */
export async function progressFigures(db: Prisma.TransactionClient, day: Date): Promise<ProgressFigures> {
  const provinces = await db.$queryRaw<ProgressFigures['provinces']>`
      SELECT p.code, p.name_fa, count(i.id)::int AS installations, sum(i.dc_capacity_kwp)::text AS kwp
      FROM provinces p LEFT JOIN installations i ON i.province_id = p.id AND i.status = 'COMMISSIONED'
      GROUP BY p.code, p.name_fa ORDER BY p.code`;
  const people = await db.$queryRaw<ProgressFigures['people']>`
      SELECT p.code, count(DISTINCT s.beneficiary_id)::int AS people
      FROM shares s JOIN beneficiaries b ON b.id = s.beneficiary_id AND b.status = 'ACTIVE'
      JOIN installations i ON i.id = s.installation_id AND i.status = 'COMMISSIONED'
      JOIN provinces p ON p.id = b.province_id
      WHERE s.valid_from <= ${day} AND (s.valid_until IS NULL OR s.valid_until > ${day})
      GROUP BY p.code`;
  const inverters = await db.$queryRaw<ProgressFigures['inverters']>`
      SELECT inv.serial, i.latitude::text, i.longitude::text FROM inverters inv JOIN installations i ON i.id = inv.installation_id
      WHERE inv.status = 'ACTIVE' AND i.status = 'COMMISSIONED'`;
  return { provinces, people, inverters };
}
