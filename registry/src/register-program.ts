// A whole program registered at once (the demo seed: thousands of rows): the share rules the API
// applies one share at a time are checked over every installation first, as if its shares were
// created one after another, and the people's identifiers as the API checks them; only then is each
// table written with one bulk INSERT, inside the caller's transaction. What the API would refuse is
// refused here before anything is written.
import type pg from 'pg';
import { mobileOf, nationalCodeOf, shebaOf } from './beneficiary-input';
import { checkLoanTerms, checkTariff, type NewLoan } from './contracts';
import { RegistryError } from './errors';
import { type HeldShare, shareBreach } from './share-rules';

/** A node-postgres pool or one of its clients (a transaction's). */
type Sql = Pick<pg.Pool, 'query'>;

export interface ProgramBeneficiary {
  nationalCode: string;
  fullName: string;
  mobile: string | null;
  sheba: string | null;
  provinceCode: string;
  targetGroup: string;
  pinHash: string | null;
}
export interface ProgramShare {
  /** The holder, one of the program's beneficiaries. */
  nationalCode: string;
  weightW: number;
  /** YYYY-MM-DD; validUntil is the first day the share no longer holds. */
  validFrom: string;
  validUntil: string | null;
}
export interface ProgramInstallation {
  code: string;
  name: string;
  provinceCode: string;
  latitude: number;
  longitude: number;
  dcKwp: number;
  acKw: number;
  commissionedOn: string | null;
  inverters: { serial: string; ratedAcW: number; model: string }[];
  shares: ProgramShare[];
  contract: {
    reference: string;
    kind: 'SUPPORT' | 'ORDINARY';
    startDate: string;
    tariffs: { from: string; until: string | null; rialPerKwh: number }[];
  } | null;
  loan: Omit<NewLoan, 'installationId'> | null;
}
export interface Program {
  beneficiaries: ProgramBeneficiary[];
  installations: ProgramInstallation[];
}
export interface ProgramCounts {
  installations: number;
  inverters: number;
  beneficiaries: number;
  shares: number;
  contracts: number;
  loans: number;
}

const day = (iso: string) => new Date(`${iso}T00:00:00Z`);

/** A national code in its normal form, or as given when it is not one (then it names no one). */
const holderKey = (raw: string) => {
  try {
    return nationalCodeOf(raw);
  } catch {
    return raw;
  }
};

/** `check()`, its refusal naming the installation: "field: installation CODE: why". */
function inInstallation<T>(code: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error;
    const why = error.message.replace(/^[\w.]+: /, '');
    throw new RegistryError(error.code, `${error.field}: installation ${code}: ${why}`, error.field);
  }
}

/**
 * The program with its people's identifiers normalised, as the API stores them; refused, naming the
 * person's place in the program or the installation, at the first thing the API would refuse: an
 * identifier, a share of someone not in the program, a share that breaks the share rules, a tariff
 * period that does not end after it starts, or a loan whose installments do not repay it. Pure.
 */
export function checkProgram(program: Program): Program {
  const beneficiaries = program.beneficiaries.map((b, i) => {
    try {
      return {
        ...b,
        nationalCode: nationalCodeOf(b.nationalCode),
        mobile: mobileOf(b.mobile) ?? null,
        sheba: shebaOf(b.sheba) ?? null,
      };
    } catch (error) {
      if (!(error instanceof RegistryError)) throw error;
      const why = error.message.replace(/^[\w.]+: /, '');
      throw new RegistryError(error.code, `${error.field}: the program's beneficiary ${i + 1}: ${why}`, error.field);
    }
  });
  const people = new Set(beneficiaries.map((b) => b.nationalCode));
  const installations = program.installations.map((installation) => {
    const capacityW = Math.round(installation.dcKwp * 1000);
    const held: HeldShare[] = [];
    const shares = installation.shares.map((share) => {
      const nationalCode = holderKey(share.nationalCode);
      if (!people.has(nationalCode))
        throw new RegistryError(
          'invalid',
          `beneficiaryId: a share in ${installation.code} names a person who is not in the program`,
          'beneficiaryId',
        );
      const candidate = {
        beneficiaryId: nationalCode,
        weightW: share.weightW,
        validFrom: day(share.validFrom),
        validUntil: share.validUntil === null ? null : day(share.validUntil),
      };
      const breach = shareBreach(capacityW, held, candidate);
      if (breach)
        throw new RegistryError(
          breach.field === 'validUntil' ? 'invalid' : 'conflict',
          `${breach.field}: installation ${installation.code}, the share from ${share.validFrom}: ${breach.message}`,
          breach.field,
        );
      held.push(candidate);
      return { ...share, nationalCode };
    });
    inInstallation(installation.code, () => {
      for (const [i, t] of (installation.contract?.tariffs ?? []).entries()) {
        const period = { effectiveFrom: day(t.from), effectiveUntil: t.until === null ? null : day(t.until) };
        checkTariff(period, `tariffs.${i}.effectiveUntil`);
      }
      if (installation.loan) checkLoanTerms(installation.loan);
    });
    return { ...installation, shares };
  });
  return { beneficiaries, installations };
}

/** Writes `program` with one INSERT per table on `db`, inside the caller's transaction, after `checkProgram`. */
export async function registerProgram(db: Sql, plan: Program): Promise<ProgramCounts> {
  const program = checkProgram(plan);
  const insts = program.installations;
  const installationIds = await db.query<{ id: number; code: string }>(
    `INSERT INTO installations (code, name, province_id, latitude, longitude, dc_capacity_kwp, ac_rating_kw, commissioned_on, status, updated_at)
     SELECT x.code, x.name, p.id, x.lat, x.lon, x.kwp, x.kw, x.commissioned::date, 'COMMISSIONED', now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::numeric[], $5::numeric[], $6::numeric[], $7::numeric[], $8::text[])
            AS x(code, name, province, lat, lon, kwp, kw, commissioned)
       JOIN provinces p ON p.code = x.province
     RETURNING id, code`,
    [
      insts.map((i) => i.code),
      insts.map((i) => i.name),
      insts.map((i) => i.provinceCode),
      insts.map((i) => i.latitude),
      insts.map((i) => i.longitude),
      insts.map((i) => i.dcKwp),
      insts.map((i) => i.acKw),
      insts.map((i) => i.commissionedOn),
    ],
  );
  const idOf = new Map(installationIds.rows.map((r) => [r.code, r.id]));
  if (idOf.size !== insts.length)
    throw new RegistryError('invalid', 'province: an installation names a province that is not in the registry');
  const inverters = insts.flatMap((i) => i.inverters.map((v) => ({ ...v, installationId: idOf.get(i.code) })));
  await db.query(
    `INSERT INTO inverters (serial, installation_id, rated_ac_w, model, updated_at)
     SELECT *, now() FROM unnest($1::text[], $2::int[], $3::int[], $4::text[])`,
    [
      inverters.map((v) => v.serial),
      inverters.map((v) => v.installationId),
      inverters.map((v) => v.ratedAcW),
      inverters.map((v) => v.model),
    ],
  );
  const people = program.beneficiaries;
  const personIds = await db.query<{ id: number; national_code: string }>(
    `INSERT INTO beneficiaries (national_code, full_name, mobile, sheba, province_id, target_group, pin_hash, updated_at)
     SELECT x.code, x.name, x.mobile, x.sheba, p.id, x.grp::target_group, x.pin, now()
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
            AS x(code, name, mobile, sheba, province, grp, pin)
       JOIN provinces p ON p.code = x.province
     RETURNING id, national_code`,
    [
      people.map((b) => b.nationalCode),
      people.map((b) => b.fullName),
      people.map((b) => b.mobile),
      people.map((b) => b.sheba),
      people.map((b) => b.provinceCode),
      people.map((b) => b.targetGroup),
      people.map((b) => b.pinHash),
    ],
  );
  const personId = new Map(personIds.rows.map((r) => [r.national_code, r.id]));
  if (personId.size !== people.length)
    throw new RegistryError('invalid', 'province: a beneficiary names a province that is not in the registry');
  const shares = insts.flatMap((i) => i.shares.map((s) => ({ ...s, installationId: idOf.get(i.code) })));
  await db.query(
    `INSERT INTO shares (beneficiary_id, installation_id, weight_w, valid_from, valid_until, updated_at)
     SELECT b, i, w, f::date, u::date, now() FROM unnest($1::int[], $2::int[], $3::int[], $4::text[], $5::text[]) AS x(b, i, w, f, u)`,
    [
      shares.map((s) => personId.get(s.nationalCode)),
      shares.map((s) => s.installationId),
      shares.map((s) => s.weightW),
      shares.map((s) => s.validFrom),
      shares.map((s) => s.validUntil),
    ],
  );
  const withContract = insts.flatMap((i) => (i.contract ? [{ ...i.contract, installationId: idOf.get(i.code) }] : []));
  const contracts = await db.query<{ id: number; reference: string }>(
    `INSERT INTO contracts (installation_id, reference, kind, start_date)
     SELECT i, r, k::contract_kind, s::date FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS x(i, r, k, s)
     RETURNING id, reference`,
    [
      withContract.map((c) => c.installationId),
      withContract.map((c) => c.reference),
      withContract.map((c) => c.kind),
      withContract.map((c) => c.startDate),
    ],
  );
  const contractId = new Map(contracts.rows.map((r) => [r.reference, r.id]));
  const tariffs = withContract.flatMap((c) =>
    c.tariffs.map((t) => ({ ...t, contractId: contractId.get(c.reference) })),
  );
  await db.query(
    `INSERT INTO tariff_periods (contract_id, effective_from, effective_until, rial_per_kwh)
     SELECT c, f::date, u::date, r FROM unnest($1::int[], $2::text[], $3::text[], $4::int[]) AS x(c, f, u, r)`,
    [
      tariffs.map((t) => t.contractId),
      tariffs.map((t) => t.from),
      tariffs.map((t) => t.until),
      tariffs.map((t) => t.rialPerKwh),
    ],
  );
  const loans = insts.flatMap((i) => (i.loan ? [{ ...i.loan, installationId: idOf.get(i.code) }] : []));
  await db.query(
    `INSERT INTO loans (installation_id, reference, principal_rials, installment_rials, installments, first_due_month)
     SELECT * FROM unnest($1::int[], $2::text[], $3::bigint[], $4::bigint[], $5::int[], $6::text[])`,
    [
      loans.map((l) => l.installationId),
      loans.map((l) => l.reference),
      loans.map((l) => l.principalRials.toString()),
      loans.map((l) => l.installmentRials.toString()),
      loans.map((l) => l.installments),
      loans.map((l) => l.firstDueMonth),
    ],
  );
  return {
    installations: insts.length,
    inverters: inverters.length,
    beneficiaries: people.length,
    shares: shares.length,
    contracts: withContract.length,
    loans: loans.length,
  };
}

/** Whether an installation with this code is registered. */
export async function isInstallationRegistered(db: Sql, code: string): Promise<boolean> {
  const { rows } = await db.query('SELECT 1 FROM installations WHERE code = $1', [code]);
  return rows.length > 0;
}

/** Inverters that report for billing: active, on an installation not decommissioned. */
export async function activeInverterCount(db: Sql): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM inverters v JOIN installations i ON i.id = v.installation_id
      WHERE v.status = 'ACTIVE' AND i.status <> 'DECOMMISSIONED'`,
  );
  return rows[0]!.n;
}
