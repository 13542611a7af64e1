// Signing in and out of the portal: the sign-in page and form (national code and PIN through the
// API's own sign-in: rate limit, lock-out, queue), signing out of this browser, and out of every
// phone at once.
import type { FastifyInstance } from 'fastify';
import { toAsciiDigits } from '../../../lib/identifiers/digits';
import { tokenHash } from '../../../lib/passwords';
import { TEHRAN_TIME_ZONE } from '../../../lib/program/tehran-time';
import { faInteger } from '../../../lib/text/persian-numbers';
import { HttpError } from '../errors';
import { PORTAL_COOKIE, portalCookie } from '../plugins/auth';
import { SignInBusyError } from '../sign-in-queue';
import { HeldOffError, SignInService, type SignInSettings } from '../sign-in-service';
import { checkCsrf, csrfOf } from './csrf';
import { type FieldError, signInPage } from './pages';
import { type ChromeOf, redirect, sendPage } from './respond';
import type { PortalSessions } from './session';

export interface SignInRoutesOptions extends SignInSettings {
  signInRateLimit: number;
  helpPhone: string;
  chrome: ChromeOf;
  sessions: PortalSessions;
}

const secondsFa = (seconds: number) =>
  seconds < 60 ? `${faInteger(seconds)} ثانیه` : `${faInteger(Math.ceil(seconds / 60))} دقیقه`;

export function signInRoutes(app: FastifyInstance, options: SignInRoutesOptions) {
  const { chrome, sessions, helpPhone } = options;
  const signIn = new SignInService(app.prisma, app.sql, options);
  const rememberDays = options.lifetimes.rememberDays;
  const hide = { schema: { hide: true } };
  const form = {
    ...hide,
    config: { rateLimit: { max: options.signInRateLimit, timeWindow: '1 minute' } },
    preHandler: checkCsrf,
  };

  app.get('/', hide, async (request, reply) => {
    if (request.portal) return redirect(reply, '/portal/home');
    const query = request.query as Record<string, string>;
    const notice =
      query['signed-out-everywhere'] !== undefined
        ? 'در همه گوشی‌ها از سامانه خارج شدید. هر گوشی برای دیدن درآمد دوباره کد ملی و رمز می‌خواهد.'
        : query['signed-out'] !== undefined
          ? 'از سامانه خارج شدید.'
          : undefined;
    return sendPage(
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

  app.post('/sign-in', form, async (request, reply) => {
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
        const people = session.representativeId === null ? [] : await sessions.peopleOf(session);
        if (people.length === 1 && session.beneficiaryId === null) {
          await sessions.lookAt(session.token, people[0]!.id);
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
    return sendPage(
      reply,
      status,
      await chrome(request, reply, 'ورود', { hasErrors: true }),
      signInPage({ errors, nationalCode, remember, rememberDays, helpPhone, csrf: csrfOf(request, reply) }),
    );
  });

  app.post('/sign-out', form, async (request, reply) => {
    const token = request.cookies[PORTAL_COOKIE];
    if (token) {
      const hash = tokenHash(token);
      // never a staff or API session through this form
      if (await sessions.isPortalSession(hash)) await app.endSessions({ tokenHash: hash });
    }
    reply.clearCookie(PORTAL_COOKIE, { path: '/portal' });
    return redirect(reply, '/portal?signed-out');
  });

  // Every session of whoever signed in (as a beneficiary and as a guardian or carer: all their
  // phones, browsers and API tokens), this one included; sessions of the people they represent are theirs.
  app.post('/sign-out-everywhere', form, async (request, reply) => {
    const session = request.portal;
    if (!session) return redirect(reply, '/portal');
    if (session.beneficiaryId !== null) await app.endSessions({ beneficiaryId: session.beneficiaryId });
    if (session.representativeId !== null) await app.endSessions({ representativeId: session.representativeId });
    reply.clearCookie(PORTAL_COOKIE, { path: '/portal' });
    return redirect(reply, '/portal?signed-out-everywhere');
  });
}
