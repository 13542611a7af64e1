// The pages of a signed-in person: choosing whom to look at (guardians and carers), the home page,
// a month's statement (and its printable copy), and help with the numbers to call.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { smsText, statementsOf } from '../../../billing';
import { type MonthId, monthBounds, monthDates, monthOf, parseMonth } from '../../../lib/program/solar-hijri';
import { tokenHash } from '../../../lib/passwords';
import { loadProvinces } from '../../../lib/provinces';
import type { PortalConfig } from '../config';
import { HttpError } from '../errors';
import { type BeneficiaryStatement, beneficiaryStatement } from '../statements';
import { checkCsrf, csrfOf } from './csrf';
import { choosePage, type FieldError, helpPage, homePage, type StatementView, statementPage } from './pages';
import { type ChromeOf, redirect, sendPage } from './respond';
import { type PortalSessions, viewing } from './session';

export interface PageRoutesOptions {
  portal: PortalConfig;
  signInRateLimit: number;
  chrome: ChromeOf;
  sessions: PortalSessions;
}

export function pageRoutes(app: FastifyInstance, options: PageRoutesOptions) {
  const { chrome, sessions } = options;
  const { helpPhone, officePhones } = options.portal;
  const provinceFa = new Map(loadProvinces().map((p) => [p.code, p.nameFa]));
  const hide = { schema: { hide: true } };
  const rateLimit = { max: options.signInRateLimit, timeWindow: '1 minute' };

  // ---- choosing whom to look at (guardians and carers) -----------------------------------------

  app.get('/choose', hide, async (request, reply) => {
    const session = request.portal;
    if (!session) return redirect(reply, '/portal');
    const people = await sessions.peopleOf(session);
    return sendPage(
      reply,
      200,
      await chrome(request, reply, 'انتخاب فرد'),
      choosePage(people, session.viewing, [], csrfOf(request, reply)),
    );
  });

  app.post('/choose', { ...hide, config: { rateLimit }, preHandler: checkCsrf }, async (request, reply) => {
    const session = request.portal;
    if (!session) return redirect(reply, '/portal');
    const people = await sessions.peopleOf(session);
    const chosen = Number((request.body as Record<string, unknown>).person);
    if (!people.some((p) => p.id === chosen)) {
      const errors: FieldError[] = [{ field: 'person', message: 'یکی از افراد فهرست را انتخاب کنید.' }];
      return sendPage(
        reply,
        400,
        await chrome(request, reply, 'انتخاب فرد', { hasErrors: true }),
        choosePage(people, session.viewing, errors, csrfOf(request, reply)),
      );
    }
    await sessions.lookAt(session.token, chosen === session.beneficiaryId ? null : chosen);
    app.forgetSession(tokenHash(session.token));
    return redirect(reply, '/portal/home');
  });

  // ---- home and statements ---------------------------------------------------------------------

  app.get('/home', hide, async (request, reply) => {
    const id = viewing(request, reply);
    if (id === null) return reply;
    const now = Date.now();
    const [person, months] = await Promise.all([sessions.personOf(request), statementsOf(app.sql, id, 24)]);
    const runningMonth = monthOf(now);
    const view = {
      name: person.name,
      self: id === request.portal!.beneficiaryId,
      runningMonth,
      months,
      shebaMasked: person.shebaMasked,
      year: parseMonth(runningMonth).year,
      csrf: csrfOf(request, reply),
    };
    return sendPage(reply, 200, await chrome(request, reply, 'صفحه اصلی'), homePage(view));
  });

  async function statement(request: FastifyRequest, reply: FastifyReply, printable: boolean) {
    const id = viewing(request, reply);
    if (id === null) return reply;
    const { month } = request.params as { month: string };
    if (!/^\d{4}-\d{2}$/.test(month)) throw new HttpError(404, 'no such month');
    const [person, statement] = await Promise.all([
      sessions.personOf(request),
      beneficiaryStatement(app.sql, id, month),
    ]);
    if (!statement) throw new HttpError(404, 'no statement for this month');
    const view = statementView(person, id === request.portal!.beneficiaryId, month, statement);
    return sendPage(
      reply,
      200,
      await chrome(request, reply, printable ? 'نسخه چاپی ریز حساب' : 'ریز حساب'),
      statementPage(view, printable),
      printable,
    );
  }
  app.get('/months/:month', hide, (request, reply) => statement(request, reply, false));
  app.get('/months/:month/print', hide, (request, reply) => statement(request, reply, true));

  // ---- help --------------------------------------------------------------------------------------

  app.get('/help', hide, async (request, reply) => {
    const id = request.portal?.viewing ?? null;
    const province = id === null ? null : (await sessions.personOf(request)).province;
    const offices = Object.entries(officePhones)
      .filter(([code]) => provinceFa.has(code))
      .map(([code, phone]) => ({ provinceFa: provinceFa.get(code)!, phone }));
    const office =
      province === null
        ? null
        : { provinceFa: provinceFa.get(province) ?? '', phone: officePhones[province] ?? helpPhone };
    return sendPage(reply, 200, await chrome(request, reply, 'راهنما'), helpPage({ helpPhone, office, offices }));
  });
}

/** A month's statement page's data: the statement as read (statements.ts) for the person shown. */
export function statementView(
  person: { name: string; shebaMasked: string | null },
  self: boolean,
  month: MonthId,
  statement: BeneficiaryStatement,
): StatementView {
  const dates = monthDates(month);
  const [first, last] = [dates[0]!, dates.at(-1)!];
  const row = statement.head;
  return {
    name: person.name,
    self,
    month: row,
    monthDays: monthBounds(month).days,
    shebaMasked: person.shebaMasked,
    sms: smsText(row),
    lines: statement.lines.map((l) => ({
      installationCode: l.installation.code,
      installationName: l.installation.name,
      people: l.people,
      capacityW: l.installation.capacityW,
      weightW: l.weightW,
      activeDays: l.activeDays,
      rials: l.rials,
      energyWh: l.bill.energyWh,
      grossRials: l.bill.grossRials,
      adjustmentRials: l.bill.adjustmentRials,
      loanRials: l.bill.loanRials,
      feeRials: l.bill.feeRials,
      netRials: l.bill.netRials,
      segments: l.detail.segments ?? [],
      adjustments: l.detail.adjustments ?? [],
      loans: l.loans,
      share: {
        startedOn: l.share.firstDay > first ? l.share.firstDay : null,
        endedOn: l.share.lastDay !== null && l.share.lastDay < last ? l.share.lastDay : null,
      },
    })),
  };
}
