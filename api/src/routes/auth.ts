// Sign-in for staff (username + password) and beneficiaries (national code + PIN), with a rate
// limit per client and lock-out per account; sign-out.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { checkNationalCode } from '../../../lib/identifiers/validate';
import { badField, errorResponses, HttpError } from '../errors';
import { DUMMY_HASH, newToken, tokenHash, verifySecret } from '../../../lib/passwords';
import { afterAttempt, isLocked, type SignInState } from '../sign-in-policy';

const Token = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  role: Type.String(),
});

export interface AuthRouteOptions {
  sessionTtlMinutes: number;
  signInMaxFailures: number;
  signInLockMinutes: number;
  signInRateLimit: number;
}

const routes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, options) => {
  const policy = { maxFailures: options.signInMaxFailures, lockMinutes: options.signInLockMinutes };
  const rateLimit = { max: options.signInRateLimit, timeWindow: '1 minute' };
  const FAILED = 'wrong credentials';

  /** Checks a secret against an account with lock-out; same answer and timing for unknown accounts. */
  async function attempt(
    account: (SignInState & { secretHash: string | null }) | null,
    secret: string,
    save: (s: SignInState) => Promise<unknown>,
  ) {
    const now = new Date();
    if (account && isLocked(account, now))
      throw new HttpError(423, `too many failed attempts; try again after ${account.lockedUntil!.toISOString()}`);
    const ok =
      (await verifySecret(secret, account?.secretHash ?? DUMMY_HASH)) &&
      account !== null &&
      account.secretHash !== null;
    if (account) await save(afterAttempt(account, ok, now, policy));
    if (!ok) throw new HttpError(401, FAILED);
  }

  async function startSession(data: { userId?: number; beneficiaryId?: number }, role: string) {
    const token = newToken();
    const expiresAt = new Date(Date.now() + options.sessionTtlMinutes * 60_000);
    await app.prisma.session.create({ data: { tokenHash: tokenHash(token), expiresAt, ...data } });
    return { token, expiresAt: expiresAt.toISOString(), role };
  }

  app.post(
    '/auth/staff/sign-in',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Staff sign-in',
        body: Type.Object({
          username: Type.String({ minLength: 1, maxLength: 60 }),
          password: Type.String({ minLength: 1, maxLength: 200 }),
        }),
        response: { 200: Token, ...errorResponses(401, 423) },
      },
    },
    async (request) => {
      const user = await app.prisma.user.findUnique({ where: { username: request.body.username } });
      await attempt(user && { ...user, secretHash: user.passwordHash }, request.body.password, (s) =>
        app.prisma.user.update({ where: { id: user!.id }, data: s }),
      );
      return startSession({ userId: user!.id }, user!.role);
    },
  );

  app.post(
    '/auth/beneficiary/sign-in',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Beneficiary sign-in with national code and PIN',
        body: Type.Object({
          nationalCode: Type.String({ maxLength: 20 }),
          pin: Type.String({ minLength: 4, maxLength: 12 }),
        }),
        response: { 200: Token, ...errorResponses(401, 423) },
      },
    },
    async (request) => {
      const code = checkNationalCode(request.body.nationalCode);
      if (!code.ok) throw badField('nationalCode', code.reason);
      const person = await app.prisma.beneficiary.findUnique({ where: { nationalCode: code.value } });
      const usable = person && person.status !== 'EXITED' ? person : null;
      await attempt(usable && { ...usable, secretHash: usable.pinHash }, request.body.pin, (s) =>
        app.prisma.beneficiary.update({ where: { id: usable!.id }, data: s }),
      );
      return startSession({ beneficiaryId: usable!.id }, 'BENEFICIARY');
    },
  );

  app.post(
    '/auth/sign-out',
    { schema: { tags: ['auth'], summary: 'End this session', response: { 204: Type.Null() } } },
    async (request, reply) => {
      const header = request.headers.authorization;
      if (header?.startsWith('Bearer ')) {
        const token = header.slice(7).trim();
        await app.prisma.session.deleteMany({ where: { tokenHash: tokenHash(token) } });
        app.forgetSession(token);
      }
      return reply.code(204).send(null);
    },
  );
};

export default routes;
