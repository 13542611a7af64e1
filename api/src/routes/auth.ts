// Sign-in for staff (username + password) and beneficiaries (national code + PIN), with a rate
// limit per client and the back-off of sign-in-service.ts; sign-out, here or everywhere.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses, HttpError } from '../errors';
import { tokenHash } from '../../../lib/passwords';
import { SignInService, type SignInSettings } from '../sign-in-service';

const Token = Type.Object({
  token: Type.String(),
  expiresAt: Type.String({ format: 'date-time' }),
  role: Type.String(),
});

export interface AuthRouteOptions extends SignInSettings {
  signInRateLimit: number;
}

const routes: FastifyPluginAsyncTypebox<AuthRouteOptions> = async (app, options) => {
  const signIn = new SignInService(app.prisma, app.sql, options);
  const rateLimit = { max: options.signInRateLimit, timeWindow: '1 minute' };

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
        response: { 200: Token, ...errorResponses(401, 423, 503) },
      },
    },
    async (request) => signIn.staff(request.body.username, request.body.password, request.ip),
  );

  app.post(
    '/auth/beneficiary/sign-in',
    {
      config: { rateLimit },
      schema: {
        tags: ['auth'],
        summary: 'Beneficiary sign-in with national code and PIN (Persian, Arabic-Indic or ASCII digits)',
        body: Type.Object({
          nationalCode: Type.String({ maxLength: 20 }),
          pin: Type.String({ minLength: 4, maxLength: 12 }),
        }),
        response: { 200: Token, ...errorResponses(401, 423, 503) },
      },
    },
    async (request) => signIn.beneficiary(request.body.nationalCode, request.body.pin, request.ip),
  );

  app.post(
    '/auth/sign-out',
    { schema: { tags: ['auth'], summary: 'End this session', response: { 204: Type.Null() } } },
    async (request, reply) => {
      const header = request.headers.authorization;
      if (header?.startsWith('Bearer ')) await app.endSessions({ tokenHash: tokenHash(header.slice(7).trim()) });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/sign-out-everywhere',
    {
      schema: {
        tags: ['auth'],
        summary: 'End every session of the signed-in account (all devices), this one included',
        response: { 204: Type.Null(), ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      const who = request.principal;
      if (!who) throw new HttpError(401, 'sign in first: send Authorization: Bearer <token>');
      await app.endSessions(who.kind === 'staff' ? { userId: who.userId } : { beneficiaryId: who.beneficiaryId });
      return reply.code(204).send(null);
    },
  );
};

export default routes;
