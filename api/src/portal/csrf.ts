// The portal's CSRF defence, double submit: a random cookie and the same value in every form's
// hidden field; a form whose field does not match its cookie is refused (403) before it is read.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { newToken } from '../../../lib/passwords';
import { HttpError } from '../errors';

const CSRF_COOKIE = 'portal_csrf';
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export class CsrfError extends HttpError {
  constructor() {
    super(403, 'the form is missing its CSRF token');
  }
}

/** The request's CSRF token, set as a cookie first when it has none (or not one of ours). */
export function csrfOf(request: FastifyRequest, reply: FastifyReply): string {
  const existing = request.cookies[CSRF_COOKIE];
  if (existing && TOKEN.test(existing)) return existing;
  const token = newToken();
  reply.setCookie(CSRF_COOKIE, token, {
    path: '/portal',
    httpOnly: true,
    sameSite: 'lax',
    secure: request.protocol === 'https',
  });
  request.cookies[CSRF_COOKIE] = token;
  return token;
}

// Compared as bytes: a field as long as the token in characters but not in bytes (é) must not throw.
const sameToken = (a: string, b: string) => {
  const [x, y] = [Buffer.from(a), Buffer.from(b)];
  return x.length === y.length && timingSafeEqual(x, y);
};

/** A form route's preHandler: the form's `csrf` field is its cookie's token, or a CsrfError. */
export async function checkCsrf(request: FastifyRequest) {
  const cookie = request.cookies[CSRF_COOKIE];
  const field = (request.body as Record<string, unknown> | undefined)?.csrf;
  if (!cookie || typeof field !== 'string' || !sameToken(cookie, field)) throw new CsrfError();
}
