// Errors in the portal are Persian pages, never JSON: a form without its CSRF token, too many
// sign-ins in a row (the sign-in form again, saying so), a page that is not there, and a failure
// (logged, with the help line's number).
import type { FastifyInstance } from 'fastify';
import { CsrfError, csrfOf } from './csrf';
import { errorPage, signInPage } from './pages';
import { type ChromeOf, sendPage } from './respond';

export function installErrorPages(
  app: FastifyInstance,
  { chrome, helpPhone, rememberDays }: { chrome: ChromeOf; helpPhone: string; rememberDays: number },
) {
  app.setErrorHandler(async (error: Error & { statusCode?: number }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (error instanceof CsrfError) {
      return sendPage(
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
      return sendPage(reply, 429, await chrome(request, reply, 'ورود', { hasErrors: true }), signInPage(view));
    }
    if (status >= 500) request.log.error({ err: error }, 'portal page failed');
    const title = status >= 500 ? 'مشکلی پیش آمد' : 'صفحه پیدا نشد';
    const message =
      status >= 500
        ? `مشکلی در سامانه پیش آمد و ثبت شد. کمی بعد دوباره امتحان کنید. اگر باز هم درست نشد با ${helpPhone} تماس بگیرید.`
        : 'این صفحه وجود ندارد یا برای شما نیست.';
    return sendPage(reply, Math.min(status, 500), await chrome(request, reply, title), errorPage(title, message));
  });
  app.setNotFoundHandler({ preHandler: app.rateLimit({ max: 60, timeWindow: '1 minute' }) }, async (request, reply) =>
    sendPage(
      reply,
      404,
      await chrome(request, reply, 'صفحه پیدا نشد'),
      errorPage('صفحه پیدا نشد', 'این صفحه وجود ندارد یا برای شما نیست.'),
    ),
  );
}
