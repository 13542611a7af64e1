// Bulk import of what operators keep in spreadsheets. Every row is parsed and applied inside one
// transaction; a dry run, or any bad row, rolls everything back, and the report lists every bad
// row with its line, column and reason. Rows are matched on natural keys, so importing the same
// file again changes nothing.
import type { PrismaClient, Prisma } from '../../prisma/generated/client/client';
import { toAsciiDigits } from '../../lib/identifiers/digits';
import { SERIAL_PATTERN, SERIAL_RULE } from '../../lib/telemetry/contract';
import { isIsoDay } from '../../lib/calendar';
import { type CsvImportCounts, type CsvRow, parseCsv } from '../../lib/csv';
import { jsonCopy } from '../../lib/json';
import { writeAuditWithPrisma } from '../../lib/audit';
import { mobileOf, nationalCodeOf, shebaOf } from './beneficiary-input';
import { invalidField, RegistryError } from './errors';
import { DEVICE_REGISTRY_LOCK } from './inverters';
import { createShare, updateShare } from './share-service';

export const IMPORT_KINDS = ['beneficiaries', 'installations', 'inverters', 'shares'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** CSV column -> API field, per kind; the first column is the natural key. */
const COLUMNS: Record<ImportKind, Record<string, string>> = {
  beneficiaries: {
    national_code: 'nationalCode',
    full_name: 'fullName',
    mobile: 'mobile',
    sheba: 'sheba',
    province: 'province',
    target_group: 'targetGroup',
  },
  installations: {
    code: 'code',
    name: 'name',
    province: 'province',
    latitude: 'latitude',
    longitude: 'longitude',
    dc_kwp: 'dcCapacityKwp',
    ac_kw: 'acRatingKw',
    commissioned_on: 'commissionedOn',
    status: 'status',
  },
  inverters: { serial: 'serial', installation_code: 'installationId', rated_ac_w: 'ratedAcW', model: 'model' },
  shares: {
    national_code: 'beneficiaryId',
    installation_code: 'installationId',
    weight_w: 'weightW',
    valid_from: 'validFrom',
    valid_until: 'validUntil',
  },
};
/** The columns that identify a row; a file naming the same record twice is a mistake. */
const NATURAL_KEY: Record<ImportKind, string[]> = {
  beneficiaries: ['national_code'],
  installations: ['code'],
  inverters: ['serial'],
  shares: ['national_code', 'installation_code', 'valid_from'],
};
const OPTIONAL = new Set(['mobile', 'sheba', 'commissioned_on', 'status', 'valid_until']);
const TARGET_GROUPS = [
  'WOMAN_HEAD_OF_HOUSEHOLD',
  'PERSON_WITH_DISABILITY',
  'RECOVERED_FROM_ADDICTION',
  'INDEPENDENT_YOUNG_ADULT',
  'OTHER',
];
const INSTALLATION_STATUSES = ['PLANNED', 'COMMISSIONED', 'SUSPENDED', 'DECOMMISSIONED'];

export interface ImportReport extends CsvImportCounts {
  kind: ImportKind;
  /** Broker accounts of the new inverters, made just before the commit (never on a dry run). */
  credentials: { serial: string; password: string }[];
}
export interface ImportOptions {
  dryRun: boolean;
  actor: string;
  /** Creates the broker accounts of new inverters (serial -> password); a refusal imports nothing. */
  provisionDevices?: (serials: string[]) => Promise<Map<string, string>>;
  onProgress?: (done: number, total: number) => void;
  /** Defaults: IMPORT_LIMITS. */
  limits?: { maxRows: number; timeoutMs: number };
}

/**
 * Bounds on one import, so one request cannot hold a transaction (and its locks) for hours: the
 * whole program (21,000 beneficiaries, about 7,000 installations) fits in one file per kind, and
 * a file that size is applied in well under the time limit. A larger file is refused before any
 * work; an import that runs out of time is rolled back and says so. Split bigger files.
 */
export const IMPORT_LIMITS = { maxRows: 50_000, timeoutMs: 10 * 60_000 };

type Tx = Prisma.TransactionClient;
type Cells = Record<string, string>;

const parseDay = (s: string) => new Date(`${s}T00:00:00Z`);
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

const number = (field: string, raw: string, min: number, max: number, integer = false) => {
  const v = Number(toAsciiDigits(raw).replace(/[٬,]/g, ''));
  if (!Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v)))
    throw invalidField(field, `must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got '${raw}'`);
  return v;
};
const date = (field: string, raw: string) => {
  const s = toAsciiDigits(raw).trim();
  if (!isIsoDay(s)) throw invalidField(field, `must be a date YYYY-MM-DD, got '${raw}'`);
  return parseDay(s);
};
const pick = (field: string, raw: string, allowed: string[]) => {
  const v = raw.trim().toUpperCase();
  if (!allowed.includes(v)) throw invalidField(field, `must be one of ${allowed.join(', ')}, got '${raw}'`);
  return v;
};

class Importer {
  created = 0;
  updated = 0;
  unchanged = 0;
  readonly newInverters: string[] = [];
  private provinces = new Map<string, number>();
  constructor(
    private readonly tx: Tx,
    private readonly actor: string,
  ) {}

  async init() {
    this.provinces = new Map((await this.tx.province.findMany()).map((p) => [p.code, p.id]));
  }

  private province(raw: string) {
    const id = this.provinces.get(raw.trim().toLowerCase());
    if (id === undefined) throw invalidField('province', `unknown province code '${raw}'`);
    return id;
  }
  private async installationId(field: string, code: string) {
    const row = await this.tx.installation.findUnique({ where: { code: code.trim() } });
    if (!row) throw invalidField(field, `no installation with code '${code}'`);
    return row.id;
  }
  private async record(
    action: 'create' | 'update',
    entity: string,
    entityId: string | number,
    before: unknown,
    after: unknown,
  ) {
    if (action === 'create') this.created++;
    else this.updated++;
    await writeAuditWithPrisma(this.tx, {
      actor: this.actor,
      action: `${entity}.import_${action}`,
      entity,
      entityId,
      before,
      after,
    });
  }
  /** Creates or updates by natural key; identical rows are left untouched. */
  private async upsert<T extends Record<string, unknown>>(
    entity: string,
    key: string,
    existing: T | null,
    wanted: Record<string, unknown>,
    create: () => Promise<unknown>,
    update: () => Promise<unknown>,
  ) {
    if (!existing) {
      await create();
      await this.record('create', entity, key, null, wanted);
      return;
    }
    const same = Object.entries(wanted).every(
      ([k, v]) =>
        String(existing[k] instanceof Date ? isoDay(existing[k] as Date) : (existing[k] ?? null)) ===
        String(v instanceof Date ? isoDay(v) : (v ?? null)),
    );
    if (same) {
      this.unchanged++;
      return;
    }
    await update();
    await this.record('update', entity, key, jsonCopy(existing), wanted);
  }

  async apply(kind: ImportKind, c: Cells): Promise<void> {
    const tx = this.tx;
    if (kind === 'beneficiaries') {
      const nationalCode = nationalCodeOf(c.national_code!);
      const fullName = c.full_name!.trim();
      if (!fullName) throw invalidField('fullName', 'is required');
      const wanted = {
        fullName,
        mobile: mobileOf(c.mobile) ?? null,
        sheba: shebaOf(c.sheba) ?? null,
        provinceId: this.province(c.province!),
        targetGroup: pick('targetGroup', c.target_group!, TARGET_GROUPS),
      };
      const existing = await tx.beneficiary.findUnique({ where: { nationalCode } });
      await this.upsert(
        'beneficiary',
        nationalCode,
        existing,
        wanted,
        () => tx.beneficiary.create({ data: { nationalCode, ...wanted, targetGroup: wanted.targetGroup as never } }),
        () =>
          tx.beneficiary.update({
            where: { nationalCode },
            data: { ...wanted, targetGroup: wanted.targetGroup as never },
          }),
      );
    } else if (kind === 'installations') {
      const code = c.code!.trim();
      if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/.test(code))
        throw invalidField('code', `'${code}' is not a valid installation code`);
      const wanted = {
        name:
          c.name!.trim() ||
          (() => {
            throw invalidField('name', 'is required');
          })(),
        provinceId: this.province(c.province!),
        latitude: number('latitude', c.latitude!, 24, 40.5),
        longitude: number('longitude', c.longitude!, 44, 63.5),
        dcCapacityKwp: number('dcCapacityKwp', c.dc_kwp!, 0.001, 100_000),
        acRatingKw: number('acRatingKw', c.ac_kw!, 0.001, 100_000),
        commissionedOn: c.commissioned_on?.trim() ? date('commissionedOn', c.commissioned_on) : null,
        status: c.status?.trim() ? pick('status', c.status, INSTALLATION_STATUSES) : 'PLANNED',
      };
      const existing = await tx.installation.findUnique({ where: { code } });
      await this.upsert(
        'installation',
        code,
        existing,
        wanted,
        () => tx.installation.create({ data: { code, ...wanted, status: wanted.status as never } }),
        () => tx.installation.update({ where: { code }, data: { ...wanted, status: wanted.status as never } }),
      );
    } else if (kind === 'inverters') {
      const serial = c.serial!.trim();
      if (!new RegExp(SERIAL_PATTERN).test(serial))
        throw invalidField('serial', `'${serial}' is not a valid serial: ${SERIAL_RULE}`);
      const wanted = {
        installationId: await this.installationId('installationId', c.installation_code!),
        ratedAcW: number('ratedAcW', c.rated_ac_w!, 1, 100_000_000, true),
        model: c.model!.trim() || 'unknown',
      };
      const existing = await tx.inverter.findUnique({ where: { serial } });
      await this.upsert(
        'inverter',
        serial,
        existing,
        wanted,
        async () => {
          await tx.inverter.create({ data: { serial, ...wanted } });
          this.newInverters.push(serial);
        },
        () => tx.inverter.update({ where: { serial }, data: wanted }),
      );
    } else {
      const person = await tx.beneficiary.findUnique({ where: { nationalCode: nationalCodeOf(c.national_code!) } });
      if (!person) throw invalidField('beneficiaryId', `no beneficiary with national code '${c.national_code}'`);
      const installationId = await this.installationId('installationId', c.installation_code!);
      const validFrom = date('validFrom', c.valid_from!);
      const wanted = {
        weightW: number('weightW', c.weight_w!, 1, 100_000_000, true),
        validUntil: c.valid_until?.trim() ? date('validUntil', c.valid_until) : null,
      };
      const existing = await tx.share.findFirst({ where: { beneficiaryId: person.id, installationId, validFrom } });
      await this.upsert(
        'share',
        `${person.id}/${installationId}/${isoDay(validFrom)}`,
        existing,
        wanted,
        () => createShare(tx, { beneficiaryId: person.id, installationId, validFrom, ...wanted }),
        () => updateShare(tx, existing!.id, wanted),
      );
    }
  }
}

class Rollback extends Error {}

export async function runImport(
  prisma: PrismaClient,
  kind: ImportKind,
  text: string,
  options: ImportOptions,
): Promise<ImportReport> {
  const report: ImportReport = {
    kind,
    dryRun: options.dryRun,
    rows: 0,
    created: 0,
    updated: 0,
    unchanged: 0,
    errors: [],
    credentials: [],
  };
  let rows: CsvRow[];
  try {
    rows = parseCsv(text);
  } catch (error) {
    report.errors.push({ line: 0, column: '', reason: (error as Error).message });
    return report;
  }
  const [header, ...body] = rows;
  const columns = COLUMNS[kind];
  const names = header?.cells.map((h) => h.trim().toLowerCase()) ?? [];
  const missing = Object.keys(columns).filter((c) => !OPTIONAL.has(c) && !names.includes(c));
  if (!header || missing.length > 0) {
    report.errors.push({
      line: header?.line ?? 1,
      column: missing.join(', '),
      reason:
        `header must name the columns ${Object.keys(columns).join(', ')} (optional: ` +
        `${[...OPTIONAL].filter((c) => c in columns).join(', ')}); missing ${missing.join(', ')}`,
    });
    return report;
  }
  const unknown = names.filter((n) => !(n in columns));
  if (unknown.length > 0)
    report.errors.push({ line: header.line, column: unknown.join(', '), reason: 'unknown column' });
  report.rows = body.length;
  const limits = options.limits ?? IMPORT_LIMITS;
  if (body.length > limits.maxRows) {
    report.errors.push({
      line: 0,
      column: '',
      reason: `the file has ${body.length} rows, the limit is ${limits.maxRows}: split it into smaller files`,
    });
    return report;
  }
  const columnOf = Object.fromEntries(Object.entries(columns).map(([column, field]) => [field, column]));

  try {
    await prisma.$transaction(
      async (tx) => {
        const importer = new Importer(tx, options.actor);
        await importer.init();
        const seen = new Map<string, number>();
        for (const [i, row] of body.entries()) {
          const cells: Cells = Object.fromEntries(names.map((n, k) => [n, row.cells[k] ?? '']));
          const key = NATURAL_KEY[kind]
            .map((c) =>
              toAsciiDigits(cells[c] ?? '')
                .trim()
                .toLowerCase(),
            )
            .join('|');
          const earlier = seen.get(key);
          if (earlier !== undefined) {
            report.errors.push({
              line: row.line,
              column: NATURAL_KEY[kind].join(', '),
              reason: `duplicates line ${earlier}`,
            });
            continue;
          }
          seen.set(key, row.line);
          // Savepoint per row: a refused row (e.g. a share over capacity) must not abort the others' checks.
          await tx.$executeRawUnsafe('SAVEPOINT import_row');
          try {
            await importer.apply(kind, cells);
            await tx.$executeRawUnsafe('RELEASE SAVEPOINT import_row');
          } catch (error) {
            await tx.$executeRawUnsafe('ROLLBACK TO SAVEPOINT import_row');
            const refused = error instanceof RegistryError;
            const field = refused ? error.field : undefined;
            const message = refused
              ? error.message.replace(/^[\w.]+: /, '')
              : ((error as Error).message.split('\n').pop() ?? 'refused');
            report.errors.push({
              line: row.line,
              column: (field && columnOf[field]) ?? field ?? '',
              reason: /Unique constraint|already exists/.test(message) ? 'duplicates another row' : message,
            });
          }
          options.onProgress?.(i + 1, body.length);
        }
        Object.assign(report, {
          created: importer.created,
          updated: importer.updated,
          unchanged: importer.unchanged,
        });
        if (options.dryRun || report.errors.length > 0) throw new Rollback();
        if (importer.newInverters.length > 0 && options.provisionDevices) {
          // Inside the transaction, so a broker refusal imports nothing (see device-reconciliation.ts).
          await tx.$executeRaw`SELECT pg_advisory_xact_lock_shared(${DEVICE_REGISTRY_LOCK})`;
          const passwords = await options.provisionDevices(importer.newInverters);
          report.credentials = [...passwords].map(([serial, password]) => ({ serial, password }));
        }
      },
      { timeout: limits.timeoutMs, maxWait: 30_000 },
    );
  } catch (error) {
    if ((error as { code?: string }).code === 'P2028') {
      // Prisma's "transaction expired": the time limit ran out and everything was rolled back.
      report.errors.push({
        line: 0,
        column: '',
        reason: `the import did not finish within ${limits.timeoutMs / 1000} s and nothing was imported: split the file`,
      });
      Object.assign(report, { created: 0, updated: 0, unchanged: 0, newInverters: [] });
      return report;
    }
    if (!(error instanceof Rollback)) throw error;
    if (!options.dryRun) Object.assign(report, { created: 0, updated: 0, unchanged: 0 }); // nothing was written
  }
  return report;
}
