// The beneficiary portal under /portal: server-rendered Persian pages that work without
// JavaScript. Cookie session (HttpOnly, SameSite=Lax, Secure over TLS) started by the API's own
// sign-in (rate limit, lock-out); every form carries a CSRF token (double submit: a random cookie
// and the same value in the form). Hidden from the OpenAPI document: these are pages, not API.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { monthBounds, monthDays, monthOf, parseMonth } from '../../../lib/program/solar-hijri';
import { smsText, statementsOf } from '../../../billing';
import { toAsciiDigits } from '../../../lib/identifiers/digits';
import { TEHRAN_TIME_ZONE } from '../../../lib/program/tehran-time';
import { loadProvinces } from '../../../lib/provinces';
import { faInteger } from '../../../lib/text/persian-numbers';
import type { PortalConfig } from '../config';
import { HttpError } from '../errors';
import { newToken, tokenHash } from '../../../lib/passwords';
import { PORTAL_COOKIE, type PortalSession, portalCookie } from '../plugins/auth';
import { HeldOffError, SignInService, type SignInSettings } from '../sign-in-service';
import { beneficiaryStatement } from '../statements';
import { SignInBusyError } from '../sign-in-queue';
import type { Html } from './html';
import {
  type Chrome,
  choosePage,
  errorPage,
  type FieldError,
  helpPage,
  homePage,
  layout,
  type Person,
  signInPage,
  statementPage,
} from './pages';

export interface PortalOptions extends SignInSettings {
  portal: PortalConfig;
  signInRateLimit: number;
}

const CSRF_COOKIE = 'portal_csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;
const hide = { schema: { hide: true } };
const require = createRequire(import.meta.url);

function asset(file: string, type: string) {
  const body = readFileSync(file);
  return { body, type, hash: createHash('sha256').update(body).digest('hex').slice(0, 12) };
}
const ASSETS = {
  css: asset(new URL('./portal.css', import.meta.url).pathname, 'text/css; charset=utf-8'),
  regular: asset(require.resolve('vazirmatn/fonts/webfonts/Vazirmatn-Regular.woff2'), 'font/woff2'),
  bold: asset(require.resolve('vazirmatn/fonts/webfonts/Vazirmatn-Bold.woff2'), 'font/woff2'),
};
export const CSS_PATH = `/portal/assets/portal-${ASSETS.css.hash}.css`;

const secondsFa = (seconds: number) =>
  seconds < 60 ? `${faInteger(seconds)} ثانیه` : `${faInteger(Math.ceil(seconds / 60))} دقیقه`;

/** A Sheba as people recognise it on a screen: the country and the last four digits. */
const shortSheba = (sheba: string | null) => (sheba ? `${sheba.slice(0, 2)}…${sheba.slice(-4)}` : null);

class CsrfError extends HttpError {
  constructor() {
    super(403, 'the form is missing its CSRF token');
  }
}

const routes: FastifyPluginAsync<PortalOptions> = async (app, options) => {
  await app.register(formbody, { bodyLimit: 4096 });
  const signIn = new SignInService(app.prisma, app.sql, options);
  const provinces = loadProvinces();
  const provinceFa = new Map(provinces.map((p) => [p.code, p.nameFa]));
  const helpPhone = options.portal.helpPhone;
  const rememberDays = options.lifetimes.rememberDays;

  // ---- plumbing: cookies, CSRF, sending pages --------------------------------------------------

  const secure = (request: FastifyRequest) => request.protocol === 'https';
  function csrfOf(request: FastifyRequest, reply: FastifyReply): string {
    const existing = request.cookies[CSRF_COOKIE];
    if (existing && TOKEN.test(existing)) return existing;
    const token = newToken();
    reply.setCookie(CSRF_COOKIE, token, { path: '/portal', httpOnly: true, sameSite: 'lax', secure: secure(request) });
    request.cookies[CSRF_COOKIE] = token;
    return token;
  }
  // Compared as bytes: a field as long as the token in characters but not in bytes (é) must not throw.
  const sameToken = (a: string, b: string) => {
    const [x, y] = [Buffer.from(a), Buffer.from(b)];
    return x.length === y.length && timingSafeEqual(x, y);
  };
  const checkCsrf = async (request: FastifyRequest) => {
    const cookie = request.cookies[CSRF_COOKIE];
    const field = (request.body as Record<string, unknown> | undefined)?.csrf;
    if (!cookie || typeof field !== 'string' || !sameToken(cookie, field)) throw new CsrfError();
  };

  async function chrome(request: FastifyRequest, reply: FastifyReply, title: string, extra: Partial<Chrome> = {}) {
    const session = request.portal;
    const account = session ? (await contextOf(request, session)).account : undefined;
    return { title, css: CSS_PATH, csrf: csrfOf(request, reply), account, ...extra };
  }
  function send(reply: FastifyReply, status: number, chrome: Chrome, main: Html, printable = false) {
    return reply
      .code(status)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
      )
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .send(layout(chrome, main, { printable }));
  }
  const redirect = (reply: FastifyReply, to: string) =>
    reply.code(303).header('cache-control', 'no-store').redirect(to);

  // ---- reads (prepared statements on the plain pool: these run on every page) ------------------

  // Every signed-in page needs who is signed in (for the header) and whose income it shows: one
  // query, once per request.
  interface PageContext {
    account: { name: string; canChoose: boolean };
    person: { name: string; sheba: string | null; province: string } | null;
  }
  const contexts = new WeakMap<FastifyRequest, Promise<PageContext>>();
  function contextOf(request: FastifyRequest, session: PortalSession): Promise<PageContext> {
    let context = contexts.get(request);
    if (!context) {
      context = readContext(session);
      contexts.set(request, context);
    }
    return context;
  }
  async function readContext(session: PortalSession): Promise<PageContext> {
    const { rows } = await app.sql.query<{
      account: string | null;
      represented: number;
      name: string | null;
      sheba: string | null;
      province: string | null;
    }>({
      name: 'portal-page',
      text: `SELECT COALESCE(me.full_name, r.full_name) AS account,
               (SELECT count(*)::int FROM representations x WHERE x.representative_id = $2) AS represented,
               v.full_name AS name, v.sheba, p.code AS province
             FROM (SELECT 1) one LEFT JOIN beneficiaries me ON me.id = $1 LEFT JOIN representatives r ON r.id = $2
             LEFT JOIN beneficiaries v ON v.id = $3 LEFT JOIN provinces p ON p.id = v.province_id`,
      values: [session.beneficiaryId, session.representativeId, session.viewing],
    });
    const row = rows[0]!;
    return {
      account: {
        name: row.account ?? '',
        canChoose: row.represented + (session.beneficiaryId === null ? 0 : 1) > 1,
      },
      person: row.name === null ? null : { name: row.name, sheba: row.sheba, province: row.province! },
    };
  }
  /** The person the session is looking at (viewing() has checked there is one). */
  const personOf = async (request: FastifyRequest) => (await contextOf(request, request.portal!)).person!;

  async function peopleOf(session: PortalSession): Promise<Person[]> {
    const { rows } = await app.sql.query<{ id: number; name: string; relation: string | null }>({
      name: 'portal-people',
      text: `SELECT b.id, b.full_name AS name, NULL AS relation, 0 AS ord FROM beneficiaries b WHERE b.id = $1
             UNION ALL
             SELECT b.id, b.full_name, r.relation::text, 1 FROM representations r JOIN beneficiaries b ON b.id = r.beneficiary_id
              WHERE r.representative_id = $2 AND b.id IS DISTINCT FROM $1 AND b.status <> 'EXITED'
             ORDER BY ord, name`,
      values: [session.beneficiaryId, session.representativeId],
    });
    return rows;
  }

  /** The session's person, or a redirect to sign in (or to choose whom to look at). */
  function viewing(request: FastifyRequest, reply: FastifyReply): number | null {
    const session = request.portal;
    if (!session) {
      void redirect(reply, '/portal');
      return null;
    }
    if (session.viewing === null) {
      void redirect(reply, '/portal/choose');
      return null;
    }
    return session.viewing;
  }

  // ---- errors: Persian pages, never JSON -------------------------------------------------------

  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (error instanceof CsrfError) {
      return send(
        reply,
        403,
        await chrome(request, reply, 'فرم دوباره فرستاده شود'),
        errorPage(
          'فرم دوباره فرستاده شود',
          'این فرم کامل نرسید؛ شاید کوکی‌ها در مرورگر بسته‌اند. صفحه را دوباره باز کنید و فرم را دوباره بفرستید.',
        ),
      );
    }
    if (status === 429) {
      const view = {
        csrf: csrfOf(request, reply),
        errors: [
          {
            field: 'nationalCode' as const,
            message: 'چند بار پشت سر هم تلاش شد. یک دقیقه صبر کنید و دوباره وارد شوید.',
          },
        ],
        nationalCode: '',
        remember: false,
        rememberDays,
        helpPhone,
      };
      return send(reply, 429, await chrome(request, reply, 'ورود', { hasErrors: true }), signInPage(view));
    }
    if (status >= 500) request.log.error({ err: error }, 'portal page failed');
    const title = status >= 500 ? 'مشکلی پیش آمد' : 'صفحه پیدا نشد';
    const message =
      status >= 500
        ? `مشکلی در سامانه پیش آمد و ثبت شد. کمی بعد دوباره امتحان کنید. اگر باز هم درست نشد با ${helpPhone} تماس بگیرید.`
        : 'این صفحه وجود ندارد یا برای شما نیست.';
    return send(reply, Math.min(status, 500), await chrome(request, reply, title), errorPage(title, message));
  });
  app.setNotFoundHandler({ preHandler: app.rateLimit({ max: 60, timeWindow: '1 minute' }) }, async (request, reply) =>
    send(
      reply,
      404,
      await chrome(request, reply, 'صفحه پیدا نشد'),
      errorPage('صفحه پیدا نشد', 'این صفحه وجود ندارد یا برای شما نیست.'),
    ),
  );

  // ---- assets ----------------------------------------------------------------------------------

  const immutable = 'public, max-age=31536000, immutable';
  app.get(`/assets/portal-${ASSETS.css.hash}.css`, hide, (_request, reply) =>
    reply.type(ASSETS.css.type).header('cache-control', immutable).send(ASSETS.css.body),
  );
  for (const [name, font] of [
    ['vazirmatn-regular.woff2', ASSETS.regular],
    ['vazirmatn-bold.woff2', ASSETS.bold],
  ] as const)
    app.get(`/assets/${name}`, hide, (_request, reply) =>
      reply.type(font.type).header('cache-control', 'public, max-age=604800').send(font.body),
    );

  // ---- sign in and out -------------------------------------------------------------------------

  app.get('/', hide, async (request, reply) => {
    if (request.portal) return redirect(reply, '/portal/home');
    const query = request.query as Record<string, string>;
    const notice =
      query['signed-out-everywhere'] !== undefined
        ? 'در همه گوشی‌ها از سامانه خارج شدید. هر گوشی برای دیدن درآمد دوباره کد ملی و رمز می‌خواهد.'
        : query['signed-out'] !== undefined
          ? 'از سامانه خارج شدید.'
          : undefined;
    return send(
      reply,
      200,
      await chrome(request, reply, 'ورود'),
      signInPage({
        errors: [],
        nationalCode: '',
        remember: false,
        rememberDays,
        helpPhone,
        notice,
        csrf: csrfOf(request, reply),
      }),
    );
  });

  const rateLimit = { max: options.signInRateLimit, timeWindow: '1 minute' };
  app.post('/sign-in', { ...hide, config: { rateLimit }, preHandler: checkCsrf }, async (request, reply) => {
    const body = request.body as Record<string, unknown>;
    const nationalCode = typeof body.nationalCode === 'string' ? body.nationalCode.trim() : '';
    const pin = typeof body.pin === 'string' ? toAsciiDigits(body.pin.trim()) : '';
    const remember = body.remember === 'yes';
    const errors: FieldError[] = [];
    if (nationalCode === '') errors.push({ field: 'nationalCode', message: 'کد ملی خود را وارد کنید.' });
    if (pin === '') errors.push({ field: 'pin', message: 'رمز خود را وارد کنید.' });
    else if (!/^\d{4,8}$/.test(pin)) errors.push({ field: 'pin', message: 'رمز باید چهار تا هشت رقم باشد.' });
    let status = 400;
    if (errors.length === 0) {
      try {
        const session = await signIn.portal(nationalCode, pin, request.ip, remember);
        reply.setCookie(
          PORTAL_COOKIE,
          session.token,
          portalCookie(request, session.remembered ? new Date(session.expiresAt) : undefined),
        );
        const people = session.representativeId === null ? [] : await peopleOf({ ...session, viewing: null });
        if (people.length === 1 && session.beneficiaryId === null) {
          await app.sql.query('UPDATE sessions SET acting_for_id = $1 WHERE token_hash = $2', [
            people[0]!.id,
            tokenHash(session.token),
          ]);
          return redirect(reply, '/portal/home');
        }
        return redirect(reply, people.length > 1 ? '/portal/choose' : '/portal/home');
      } catch (error) {
        if (!(error instanceof HttpError)) throw error;
        status = error.statusCode;
        if (error instanceof HeldOffError) {
          const until = new Intl.DateTimeFormat('fa-IR', {
            timeZone: TEHRAN_TIME_ZONE,
            hour: '2-digit',
            minute: '2-digit',
          }).format(error.until);
          errors.push({
            field: 'pin',
            message: `رمز چند بار اشتباه زده شد و ورود تا ساعت ${until} بسته است. بعد از آن دوباره امتحان کنید، یا برای رمز تازه با اداره بهزیستی تماس بگیرید.`,
          });
        } else if (error instanceof SignInBusyError) {
          // Nothing was checked: the PIN was not wrong and no attempt was counted. Said in words
          // and in Retry-After; the page does not reload itself (people take their own time).
          reply.header('retry-after', String(error.retryAfterSeconds));
          errors.push({
            field: 'pin',
            message:
              `الان افراد زیادی با هم وارد می‌شوند. حدود ${secondsFa(error.retryAfterSeconds)} دیگر رمز را ` +
              `دوباره بزنید و «ورود» را فشار دهید. رمز شما اشتباه نبود.`,
          });
        } else if (error.field === 'nationalCode') {
          errors.push({
            field: 'nationalCode',
            message: 'این کد ملی درست نیست. ده رقم کارت ملی را دوباره و با دقت وارد کنید.',
          });
        } else if (status === 401) {
          errors.push({
            field: 'pin',
            message:
              'کد ملی یا رمز درست نیست. دوباره امتحان کنید. اگر رمز را فراموش کرده‌اید با اداره بهزیستی تماس بگیرید.',
          });
        } else throw error;
      }
    }
    return send(
      reply,
      status,
      await chrome(request, reply, 'ورود', { hasErrors: true }),
      signInPage({ errors, nationalCode, remember, rememberDays, helpPhone, csrf: csrfOf(request, reply) }),
    );
  });

  app.post('/sign-out', { ...hide, config: { rateLimit }, preHandler: checkCsrf }, async (request, reply) => {
    const token = request.cookies[PORTAL_COOKIE];
    if (token) {
      const hash = tokenHash(token);
      const { rows } = await app.sql.query('SELECT 1 FROM sessions WHERE token_hash = $1 AND portal', [hash]);
      if (rows.length > 0) await app.endSessions({ tokenHash: hash }); // never a staff or API session through this form
    }
    reply.clearCookie(PORTAL_COOKIE, { path: '/portal' });
    return redirect(reply, '/portal?signed-out');
  });

  // Every session of whoever signed in (as a beneficiary and as a guardian or carer: all their
  // phones, browsers and API tokens), this one included; sessions of the people they represent are theirs.
  app.post(
    '/sign-out-everywhere',
    { ...hide, config: { rateLimit }, preHandler: checkCsrf },
    async (request, reply) => {
      const session = request.portal;
      if (!session) return redirect(reply, '/portal');
      if (session.beneficiaryId !== null) await app.endSessions({ beneficiaryId: session.beneficiaryId });
      if (session.representativeId !== null) await app.endSessions({ representativeId: session.representativeId });
      reply.clearCookie(PORTAL_COOKIE, { path: '/portal' });
      return redirect(reply, '/portal?signed-out-everywhere');
    },
  );

  // ---- choosing whom to look at (guardians and carers) -----------------------------------------

  app.get('/choose', hide, async (request, reply) => {
    const session = request.portal;
    if (!session) return redirect(reply, '/portal');
    const people = await peopleOf(session);
    return send(
      reply,
      200,
      await chrome(request, reply, 'انتخاب فرد'),
      choosePage(people, session.viewing, [], csrfOf(request, reply)),
    );
  });

  app.post('/choose', { ...hide, config: { rateLimit }, preHandler: checkCsrf }, async (request, reply) => {
    const session = request.portal;
    if (!session) return redirect(reply, '/portal');
    const people = await peopleOf(session);
    const chosen = Number((request.body as Record<string, unknown>).person);
    if (!people.some((p) => p.id === chosen)) {
      const errors: FieldError[] = [{ field: 'person', message: 'یکی از افراد فهرست را انتخاب کنید.' }];
      return send(
        reply,
        400,
        await chrome(request, reply, 'انتخاب فرد', { hasErrors: true }),
        choosePage(people, session.viewing, errors, csrfOf(request, reply)),
      );
    }
    await app.sql.query('UPDATE sessions SET acting_for_id = $1 WHERE token_hash = $2', [
      chosen === session.beneficiaryId ? null : chosen,
      tokenHash(session.token),
    ]);
    app.forgetSession(tokenHash(session.token));
    return redirect(reply, '/portal/home');
  });

  // ---- home and statements ---------------------------------------------------------------------

  app.get('/home', hide, async (request, reply) => {
    const id = viewing(request, reply);
    if (id === null) return reply;
    const now = Date.now();
    const [person, months] = await Promise.all([personOf(request), statementsOf(app.sql, id, 24)]);
    const runningMonth = monthOf(now);
    const view = {
      name: person.name,
      self: id === request.portal!.beneficiaryId,
      runningMonth,
      months,
      shebaMasked: shortSheba(person.sheba),
      year: parseMonth(runningMonth).year,
      csrf: csrfOf(request, reply),
    };
    return send(reply, 200, await chrome(request, reply, 'صفحه اصلی'), homePage(view));
  });

  async function statement(request: FastifyRequest, reply: FastifyReply, printable: boolean) {
    const id = viewing(request, reply);
    if (id === null) return reply;
    const { month } = request.params as { month: string };
    if (!/^\d{4}-\d{2}$/.test(month)) throw new HttpError(404, 'no such month');
    const [person, statement] = await Promise.all([personOf(request), beneficiaryStatement(app.sql, id, month)]);
    if (!statement) throw new HttpError(404, 'no statement for this month');
    const row = statement.head;
    const days = monthDays(month);
    const [first, last] = [days[0]!.date, days.at(-1)!.date];
    const view = {
      name: person.name,
      self: id === request.portal!.beneficiaryId,
      month: row,
      monthDays: monthBounds(month).days,
      shebaMasked: shortSheba(person.sheba),
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
    return send(
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
    const province = id === null ? null : (await personOf(request)).province;
    const offices = Object.entries(options.portal.officePhones)
      .filter(([code]) => provinceFa.has(code))
      .map(([code, phone]) => ({ provinceFa: provinceFa.get(code)!, phone }));
    const office =
      province === null
        ? null
        : { provinceFa: provinceFa.get(province) ?? '', phone: options.portal.officePhones[province] ?? helpPhone };
    return send(reply, 200, await chrome(request, reply, 'راهنما'), helpPage({ helpPhone, office, offices }));
  });
};

export default routes;
