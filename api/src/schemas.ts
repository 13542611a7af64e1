// Schemas shared by several routes.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** A string enum whose TypeScript type is the union of its values. */
export const oneOf = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...(description ? { description } : {}) });

/** A CSV import's report (lib/csv.ts CsvImportCounts), as properties for a route's report schema. */
export const csvImportCounts = {
  dryRun: Type.Boolean(),
  rows: Type.Integer(),
  created: Type.Integer(),
  updated: Type.Integer(),
  unchanged: Type.Integer(),
  errors: Type.Array(Type.Object({ line: Type.Integer(), column: Type.String(), reason: Type.String() })),
};

export const PageQuery = Type.Object({
  page: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 }),
  pageSize: Type.Integer({ minimum: 1, maximum: 500, default: 50 }),
});
export type PageQuery = Static<typeof PageQuery>;

export const pageOf = <T extends TSchema>(item: T) =>
  Type.Object({
    items: Type.Array(item),
    page: Type.Integer(),
    pageSize: Type.Integer(),
    total: Type.Integer(),
  });

const skipTake = (q: PageQuery) => ({ skip: (q.page - 1) * q.pageSize, take: q.pageSize });

/** One page of a list: the rows (fetched with skip/take) and the total, in parallel. */
export async function paged<R, T>(
  q: PageQuery,
  rows: (window: { skip: number; take: number }) => Promise<R[]>,
  count: () => Promise<number>,
  toItem: (row: R) => T,
) {
  const [items, total] = await Promise.all([rows(skipTake(q)), count()]);
  return { items: items.map(toItem), page: q.page, pageSize: q.pageSize, total };
}

export const IsoDate = Type.String({ format: 'date', description: 'YYYY-MM-DD' });
/** A row id as clients send it: PostgreSQL's integer range, so a larger number is a 400 naming the field, not a 500. */
export const RecordId = (description?: string) =>
  Type.Integer({ minimum: 1, maximum: 2_147_483_647, ...(description ? { description } : {}) });
export const IdParam = Type.Object({ id: RecordId() });
/** An installation's code, as created and as looked up: a NUL or any other stray byte is a 400, never a query. */
export const InstallationCode = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$' });

/** A Date column (PostgreSQL date) as YYYY-MM-DD. */
export const isoDay = (d: Date | null | undefined) => (d ? d.toISOString().slice(0, 10) : null);
export const parseDay = (s: string) => new Date(`${s}T00:00:00Z`);
