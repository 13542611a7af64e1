// Imports the distribution company's settlement file with the registry import's rules: every row
// checked and every bad one reported by line and column; all rows or none; a dry run writes
// nothing; rows are matched on their natural key (installation + period start), so importing the
// same file again changes nothing and a re-import with payment dates only records the payments.
// A settlement whose payment was recorded never changes here: a correction does (correct-settlement.ts).
// Set-based (a few statements for the whole file), so a program-wide file imports in seconds.
import type pg from 'pg';
import { writeAudit } from '../../../lib/audit';
import { type CsvImportCounts, parseCsv } from '../../../lib/csv';
import { rollbackWith, withTransaction } from '../../../lib/transaction';
import { installationsByCodeOrMeter } from '../../../registry/index';
import { parseSettlementRows, type SettlementRow } from './settlement-rows';

/** Advisory-lock namespace of settlement imports (the second key is the installation). */
const SETTLEMENT_LOCK = 21_003;

/** Larger files are refused; a period of the whole program is ~7,000 rows today, 21,000 at most. */
export const MAX_SETTLEMENT_ROWS = 100_000;

export type SettlementImportReport = CsvImportCounts;

interface Existing {
  id: number;
  installation_id: number;
  period_from: string;
  period_until: string;
  metered_wh: string;
  amount_rials: string;
  reference: string;
  paid_on: string | null;
}

const sameValues = (row: SettlementRow, old: Existing) =>
  old.period_until === row.periodUntil &&
  BigInt(old.metered_wh) === row.meteredWh &&
  BigInt(old.amount_rials) === row.amountRials &&
  old.reference === row.reference &&
  old.paid_on === row.paidOn;

/** The file's name of the first field a row would change. */
const changedColumn = (row: SettlementRow, old: Existing) =>
  old.period_until !== row.periodUntil
    ? 'period_end'
    : BigInt(old.metered_wh) !== row.meteredWh
      ? 'metered_kwh'
      : BigInt(old.amount_rials) !== row.amountRials
        ? 'amount_rials'
        : old.reference !== row.reference
          ? 'reference'
          : 'paid_on';

export async function importSettlements(
  pool: pg.Pool,
  text: string,
  options: { dryRun: boolean; actor: string },
): Promise<SettlementImportReport> {
  const report: SettlementImportReport = {
    dryRun: options.dryRun,
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    errors: [],
  };
  let parsed: ReturnType<typeof parseSettlementRows>;
  try {
    const csv = parseCsv(text);
    if (csv.length - 1 > MAX_SETTLEMENT_ROWS) {
      report.errors.push({
        line: 0,
        column: '',
        reason: `the file has ${csv.length - 1} rows; split it into files of at most ${MAX_SETTLEMENT_ROWS}`,
      });
      return report;
    }
    parsed = parseSettlementRows(csv);
    report.rows = Math.max(0, csv.length - 1);
  } catch (error) {
    report.errors.push({ line: 0, column: '', reason: (error as Error).message });
    return report;
  }
  report.errors.push(...parsed.errors);

  return withTransaction(pool, async (db) => {
    const installations = await installationsByCodeOrMeter(
      db,
      parsed.rows.flatMap((r) => (r.installationCode ? [r.installationCode] : [])),
      parsed.rows.flatMap((r) => (r.exportMeter ? [r.exportMeter] : [])),
    );
    const byCode = new Map(installations.map((i) => [i.code, i.id]));
    const byMeter = new Map(installations.flatMap((i) => (i.export_meter ? [[i.export_meter, i.id] as const] : [])));
    const resolved: { row: SettlementRow; installationId: number }[] = [];
    for (const row of parsed.rows) {
      const installationId = row.installationCode ? byCode.get(row.installationCode) : byMeter.get(row.exportMeter!);
      if (installationId === undefined)
        report.errors.push(
          row.installationCode
            ? {
                line: row.line,
                column: 'installation_code',
                reason: `no installation with code '${row.installationCode}'`,
              }
            : {
                line: row.line,
                column: 'export_meter',
                reason: `no installation has export meter '${row.exportMeter}'`,
              },
        );
      else resolved.push({ row, installationId });
    }
    // Same installation named once by code and once by meter: the key must still be unique.
    const seen = new Map<string, number>();
    for (const { row, installationId } of resolved) {
      const key = `${installationId}|${row.periodFrom}`;
      const earlier = seen.get(key);
      if (earlier !== undefined)
        report.errors.push({ line: row.line, column: 'period_start', reason: `duplicates line ${earlier}` });
      else seen.set(key, row.line);
    }

    // One import at a time per installation (the first waits for no one): a parallel import then
    // sees this one's rows and reports the overlap; the exclusion constraint is the last word.
    const installationIds = [...new Set(resolved.map((r) => r.installationId))].sort((a, b) => a - b);
    await db.query(`SELECT pg_advisory_xact_lock(${SETTLEMENT_LOCK}, id) FROM unnest($1::int[]) AS id`, [
      installationIds,
    ]);
    const existing = await db.query<Existing>(
      `SELECT id, installation_id, to_char(period_from, 'YYYY-MM-DD') AS period_from,
              to_char(period_until, 'YYYY-MM-DD') AS period_until, metered_wh, amount_rials, reference,
              to_char(paid_on, 'YYYY-MM-DD') AS paid_on
         FROM utility_settlements WHERE installation_id = ANY($1) FOR UPDATE`,
      [installationIds],
    );
    const stored = new Map<number, Existing[]>();
    for (const s of existing.rows) stored.set(s.installation_id, [...(stored.get(s.installation_id) ?? []), s]);
    const changes: { row: SettlementRow; installationId: number; old: Existing | null }[] = [];
    for (const { row, installationId } of resolved) {
      const mine = stored.get(installationId) ?? [];
      const old = mine.find((s) => s.period_from === row.periodFrom) ?? null;
      const overlapping = mine.find(
        (s) => s !== old && s.period_from < row.periodUntil && row.periodFrom < s.period_until,
      );
      if (overlapping)
        report.errors.push({
          line: row.line,
          column: 'period_start',
          reason: `overlaps the settlement already imported for ${overlapping.period_from} to ${overlapping.period_until} (reference ${overlapping.reference})`,
        });
      else if (old && sameValues(row, old)) report.unchanged++;
      else if (old?.paid_on)
        // Money on record: no field of a paid settlement changes (the database refuses it too).
        report.errors.push({
          line: row.line,
          column: changedColumn(row, old),
          reason:
            `the payment of this settlement was recorded on ${old.paid_on}; a paid settlement is not changed ` +
            `by an import: record a correction (POST /settlements/${old.id}/corrections)`,
        });
      else changes.push({ row, installationId, old });
    }
    report.created = changes.filter((c) => !c.old).length;
    report.updated = changes.length - report.created;
    report.errors.sort((a, b) => a.line - b.line);
    if (options.dryRun || report.errors.length > 0) {
      if (report.errors.length > 0) Object.assign(report, { created: 0, updated: 0, unchanged: 0 });
      return rollbackWith(report);
    }
    if (changes.length > 0) await writeChanges(db, changes, options.actor);
    return report;
  });
}

/**
 * One upsert and one audit insert for all changed rows. A settlement whose figures changed is
 * reconciled afresh; one that only gained its payment date keeps its reconciliation.
 */
async function writeChanges(
  db: pg.ClientBase,
  changes: { row: SettlementRow; installationId: number; old: Existing | null }[],
  actor: string,
): Promise<void> {
  const column = <T>(pick: (c: (typeof changes)[number]) => T) => changes.map(pick);
  const written = await db.query<{ id: number; installation_id: number; period_from: string }>(
    `INSERT INTO utility_settlements AS s (installation_id, period_from, period_until, metered_wh, amount_rials, reference, paid_on)
     SELECT * FROM unnest($1::int[], $2::date[], $3::date[], $4::bigint[], $5::bigint[], $6::text[], $7::date[])
     ON CONFLICT (installation_id, period_from) DO UPDATE SET
       period_until = excluded.period_until, metered_wh = excluded.metered_wh, amount_rials = excluded.amount_rials,
       reference = excluded.reference, paid_on = excluded.paid_on,
       status = CASE WHEN (s.period_until, s.metered_wh, s.amount_rials) = (excluded.period_until, excluded.metered_wh, excluded.amount_rials)
                THEN s.status END
     RETURNING id, installation_id, to_char(period_from, 'YYYY-MM-DD') AS period_from`,
    [
      column((c) => c.installationId),
      column((c) => c.row.periodFrom),
      column((c) => c.row.periodUntil),
      column((c) => String(c.row.meteredWh)),
      column((c) => String(c.row.amountRials)),
      column((c) => c.row.reference),
      column((c) => c.row.paidOn),
    ],
  );
  const ids = new Map(written.rows.map((w) => [`${w.installation_id}|${w.period_from}`, w.id]));
  await writeAudit(
    db,
    changes.map((c) => ({
      actor,
      action: c.old ? ('settlement.import_update' as const) : ('settlement.import_create' as const),
      entity: 'utility_settlement',
      entityId: String(ids.get(`${c.installationId}|${c.row.periodFrom}`)),
      before: c.old && {
        periodUntil: c.old.period_until,
        meteredWh: c.old.metered_wh,
        amountRials: c.old.amount_rials,
        reference: c.old.reference,
        paidOn: c.old.paid_on,
      },
      after: {
        periodFrom: c.row.periodFrom,
        periodUntil: c.row.periodUntil,
        meteredWh: String(c.row.meteredWh),
        amountRials: String(c.row.amountRials),
        reference: c.row.reference,
        paidOn: c.row.paidOn,
      },
    })),
  );
}
