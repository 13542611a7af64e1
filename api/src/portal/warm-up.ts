// The signed-in pages warmed up before the API opens its port (lifecycle.ts) without a session or
// anyone's data: their reads run for a person, representative and session that do not exist (the
// same prepared statements, returning no rows), and the pages are rendered from a fixed sample
// through the real renderer. Nothing is written: reads only, and no session is made.
import type pg from 'pg';
import { statementsOf } from '../../../billing';
import { monthOf, nextMonth, previousMonth } from '../../../lib/program/solar-hijri';
import { beneficiaryStatement, type BeneficiaryStatement } from '../statements';
import { CSS_PATH } from './assets';
import { statementView } from './page-routes';
import { homePage, layout, type MonthRow, statementPage } from './pages';
import { PortalSessions } from './session';

/** No beneficiary, representative or session has this id (ids are serial, from 1). */
const NOBODY = -1;

/**
 * The reads of the home and statement pages (session context, the months, a month's statement)
 * for nobody, on `sql` (a pool, or one of its connections to prepare them there). Throws if any
 * found someone: a warm-up must never read a person's data.
 */
export async function readAsNobody(sql: Pick<pg.Pool, 'query'>): Promise<void> {
  const month = monthOf(Date.now());
  const nobody = { beneficiaryId: NOBODY, representativeId: NOBODY, viewing: NOBODY };
  const [context, statement, months] = await Promise.all([
    new PortalSessions(sql).readContext(nobody),
    beneficiaryStatement(sql, NOBODY, month),
    statementsOf(sql, NOBODY, 24),
  ]);
  if (context.person !== null || statement !== null || months.length > 0)
    throw new Error('the warm-up read found a person: its id is meant to match nobody');
}

const SAMPLE_PERSON = { name: 'نمونه', shebaMasked: 'IR…0000' };
const sampleMonth = (month: string, status: MonthRow['status']): BeneficiaryStatement['head'] => ({
  month,
  status,
  toDateAt: null,
  earnedRials: 4_000_000n,
  carriedInRials: 0n,
  payableRials: status === 'DRAFT' ? 0n : 4_000_000n,
  carriedOutRials: 0n,
  paidAt: status === 'PAID' ? new Date(0) : null,
});

/** A closed and paid month of one share in a plant with a loan, a tariff step and an adjustment. */
function sampleStatement(month: string): BeneficiaryStatement {
  const segment = { contract: 'C', wh: 1_000_000, rials: '30000000', rialPerKwh: 30_000, contractYear: 1 };
  return {
    head: sampleMonth(month, 'PAID'),
    lines: [
      {
        installationId: NOBODY,
        shareId: NOBODY,
        weightW: 5000,
        activeDays: 20,
        rials: 4_000_000n,
        people: 3,
        bill: {
          energyWh: 2_000_000,
          grossRials: 60_000_000n,
          adjustmentRials: 1_000_000n,
          incomeRials: 61_000_000n,
          loanRials: 2_000_000n,
          feeRials: 1_000_000n,
          netRials: 58_000_000n,
          poolRials: 0n,
          incomplete: false,
          implausible: false,
        },
        detail: {
          segments: [
            { ...segment, fromDate: '2026-10-23', toDate: '2026-11-01', percent: 100 },
            { ...segment, fromDate: '2026-11-02', toDate: '2026-11-21', percent: 90 },
          ],
          adjustments: [{ forMonth: previousMonth(month), wh: 30_000, rials: '1000000', reason: 'late_data' }],
        },
        installation: { code: 'SAMPLE-1', name: 'نمونه', capacityW: 15_000 },
        share: { firstDay: '2026-11-02', lastDay: null },
        loans: [{ reference: 'L-1', deductedRials: 2_000_000n, balanceRials: 10_000_000n }],
      },
    ],
  };
}

/** The home page, a statement and its printable copy, rendered from the sample; returns the pages. */
export function renderSamplePages(now = Date.now()): string[] {
  const running = monthOf(now);
  const closed = previousMonth(running);
  const chrome = {
    title: 'ریز حساب',
    css: CSS_PATH,
    csrf: 'warm-up',
    account: { name: SAMPLE_PERSON.name, canChoose: true },
  };
  const view = statementView(SAMPLE_PERSON, true, closed, sampleStatement(closed));
  const home = homePage({
    ...SAMPLE_PERSON,
    self: true,
    runningMonth: running,
    months: [sampleMonth(running, 'DRAFT'), sampleMonth(closed, 'PAID'), sampleMonth(previousMonth(closed), 'CLOSED')],
    year: Number(running.slice(0, 4)),
    csrf: 'warm-up',
  });
  return [
    layout(chrome, home),
    layout(chrome, statementPage(view, false)),
    layout(chrome, statementPage(view, true), { printable: true }),
    // A month not closed yet, as the home page's link to the running month shows it.
    layout(chrome, statementPage({ ...view, month: sampleMonth(nextMonth(closed), 'DRAFT') }, false)),
  ];
}

/** The portal's part of the API's warm-up (lifecycle.ts): the pages' reads for nobody, the sample rendered. */
export async function warmPages(sql: Pick<pg.Pool, 'query'>): Promise<number> {
  await readAsNobody(sql);
  return renderSamplePages().length;
}
