// The portal session as pages use it: who signed in (for the header), the person whose income the
// pages show, the people a guardian or carer may choose from, and the choice. Prepared statements
// on the plain pool: these run on every page. A person is read through the registry's view
// (beneficiary_profiles), joined with the session's own tables in the page's one statement.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import { tokenHash } from '../../../lib/passwords';
import type { PortalSession } from '../plugins/auth';
import type { PortalIdentity } from '../sign-in-service';
import type { Person } from './pages';
import { redirect } from './respond';

export interface PageContext {
  account: { name: string; canChoose: boolean };
  /** `shebaMasked`: the Sheba's country and last four (`IR…1234`), as the registry publishes it. */
  person: { name: string; shebaMasked: string | null; province: string } | null;
}

export class PortalSessions {
  // Every signed-in page needs who is signed in and whose income it shows: one query, once per request.
  private readonly contexts = new WeakMap<FastifyRequest, Promise<PageContext>>();

  constructor(private readonly sql: Pick<pg.Pool, 'query'>) {}

  contextOf(request: FastifyRequest, session: PortalSession): Promise<PageContext> {
    let context = this.contexts.get(request);
    if (!context) {
      context = this.readContext(session);
      this.contexts.set(request, context);
    }
    return context;
  }

  /** The person the session is looking at (viewing() has checked there is one). */
  async personOf(request: FastifyRequest) {
    return (await this.contextOf(request, request.portal!)).person!;
  }

  /** Whom the session may look at: the person who signed in first, then those they represent. */
  async peopleOf(session: PortalIdentity): Promise<Person[]> {
    const { rows } = await this.sql.query<{ id: number; name: string; relation: string | null }>({
      name: 'portal-people',
      text: `SELECT b.id, b.full_name AS name, NULL AS relation, 0 AS ord FROM beneficiary_profiles b WHERE b.id = $1
             UNION ALL
             SELECT b.id, b.full_name, r.relation::text, 1 FROM representations r JOIN beneficiary_profiles b ON b.id = r.beneficiary_id
              WHERE r.representative_id = $2 AND b.id IS DISTINCT FROM $1 AND b.in_program
             ORDER BY ord, name`,
      values: [session.beneficiaryId, session.representativeId],
    });
    return rows;
  }

  /** The session (by its token) looks at `beneficiaryId` from now on; null: the person who signed in. */
  async lookAt(token: string, beneficiaryId: number | null) {
    await this.sql.query('UPDATE sessions SET acting_for_id = $1 WHERE token_hash = $2', [
      beneficiaryId,
      tokenHash(token),
    ]);
  }

  /** Whether the token's hash is a portal session's (never a staff or API session). */
  async isPortalSession(hash: string) {
    const { rows } = await this.sql.query('SELECT 1 FROM sessions WHERE token_hash = $1 AND portal', [hash]);
    return rows.length > 0;
  }

  /** The page context of a session, read now (pages use contextOf: once per request). */
  async readContext(
    session: Pick<PortalSession, 'beneficiaryId' | 'representativeId' | 'viewing'>,
  ): Promise<PageContext> {
    const { rows } = await this.sql.query<{
      account: string | null;
      represented: number;
      name: string | null;
      shebaMasked: string | null;
      province: string | null;
    }>({
      name: 'portal-page',
      text: `SELECT COALESCE(me.full_name, r.full_name) AS account,
               (SELECT count(*)::int FROM representations x WHERE x.representative_id = $2) AS represented,
               v.full_name AS name, v.sheba_masked AS "shebaMasked", v.province_code AS province
             FROM (SELECT 1) one LEFT JOIN beneficiary_profiles me ON me.id = $1 LEFT JOIN representatives r ON r.id = $2
             LEFT JOIN beneficiary_profiles v ON v.id = $3`,
      values: [session.beneficiaryId, session.representativeId, session.viewing],
    });
    const row = rows[0]!;
    return {
      account: {
        name: row.account ?? '',
        canChoose: row.represented + (session.beneficiaryId === null ? 0 : 1) > 1,
      },
      person: row.name === null ? null : { name: row.name, shebaMasked: row.shebaMasked, province: row.province! },
    };
  }
}

/** The session's person, or a redirect to sign in (or to choose whom to look at) and null. */
export function viewing(request: FastifyRequest, reply: FastifyReply): number | null {
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
