// Sending a portal page: the chrome around it (title, stylesheet, CSRF token, who is signed in),
// the headers every page carries (a strict CSP, no-store), and redirects after a form.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CSS_PATH } from './assets';
import { csrfOf } from './csrf';
import type { Html } from './html';
import { type Chrome, layout } from './pages';
import type { PortalSessions } from './session';

export type ChromeOf = (
  request: FastifyRequest,
  reply: FastifyReply,
  title: string,
  extra?: Partial<Chrome>,
) => Promise<Chrome>;

/** A page's chrome: its title, and the account's name in the header when someone is signed in. */
export const chromeOf =
  (sessions: PortalSessions): ChromeOf =>
  async (request, reply, title, extra = {}) => {
    const session = request.portal;
    const account = session ? (await sessions.contextOf(request, session)).account : undefined;
    return { title, css: CSS_PATH, csrf: csrfOf(request, reply), account, ...extra };
  };

export function sendPage(reply: FastifyReply, status: number, chrome: Chrome, main: Html, printable = false) {
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

export const redirect = (reply: FastifyReply, to: string) =>
  reply.code(303).header('cache-control', 'no-store').redirect(to);
