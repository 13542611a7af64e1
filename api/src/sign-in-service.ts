// Sign-in for staff and beneficiaries, in one place for every entry point (the API's routes, the
// beneficiary portal): failures throttled per typed account and client address and per account
// (sign-in-policy.ts), counted atomically in PostgreSQL; the same answers and timing for accounts
// that exist and that do not; PINs typed in any digits; old hashes re-hashed; then a session.
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { PrismaClient } from '../../lib/db';
import { toAsciiDigits } from '../../lib/identifiers/digits';
import { checkNationalCode } from '../../lib/identifiers/validate';
import { beneficiaryByNationalCode, setPinHash } from '../../registry';
import { badField, HttpError } from './errors';
import { DUMMY_HASH, hashSecret, needsRehash, newToken, tokenHash, verifySecret } from '../../lib/passwords';
import { ACCOUNT_WIDE_FACTOR, FORGET_AFTER_HOURS, lockMinutesAfter, type SignInPolicy } from './sign-in-policy';
import type { SessionsOf } from './plugins/auth';
import type { SignInQueue } from './sign-in-queue';
import { type SessionLifetimes, sessionLifetime } from './session-lifetime';

export interface SignInSettings extends SignInPolicy {
  lifetimes: SessionLifetimes;
  /** The process's one queue for PIN and password checks. */
  queue: SignInQueue;
  /** Ends sessions (and evicts them from this process's cache): the auth plugin's endSessions. */
  endSessions: (of: SessionsOf) => Promise<void>;
}
export interface Session {
  token: string;
  expiresAt: string;
  role: string;
  /** A portal session that lasts on the person's own phone (a persistent cookie). */
  remembered: boolean;
}

export const WRONG_CREDENTIALS = 'wrong credentials';

/** 423: sign-in is held off until `until` (the portal words it for people). */
export class HeldOffError extends HttpError {
  constructor(readonly until: Date) {
    super(423, `too many failed attempts; try again after ${until.toISOString()}`);
  }
}

/** Who signed in to the portal: a beneficiary, a representative (guardian or carer), or both. */
export interface PortalIdentity {
  beneficiaryId: number | null;
  representativeId: number | null;
}

// The throttle stores digests, never the national codes, usernames or addresses themselves.
const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

export class SignInService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly sql: pg.Pool,
    private readonly settings: SignInSettings,
  ) {}

  /** Staff: username and password. `client` is the caller's address. */
  async staff(username: string, password: string, client: string): Promise<Session> {
    return this.inTurn(async () => {
      const user = await this.prisma.user.findUnique({ where: { username } });
      const usable = user && user.disabledAt === null ? user : null;
      await this.check(`staff:${username}`, client, password, usable?.passwordHash ?? null, (passwordHash) =>
        this.prisma.user.update({ where: { id: usable!.id }, data: { passwordHash } }),
      );
      return this.start({ userId: usable!.id }, usable!.role);
    });
  }

  /** Beneficiaries: national code and PIN, either in Persian, Arabic-Indic or ASCII digits. */
  async beneficiary(nationalCode: string, pin: string, client: string): Promise<Session> {
    const code = this.nationalCode(nationalCode);
    return this.inTurn(async () => {
      const person = await this.checkBeneficiary(code, await this.usableBeneficiary(code), pin, client);
      return this.start({ beneficiaryId: person.id }, 'BENEFICIARY');
    });
  }

  /**
   * The portal: a beneficiary, or a guardian or carer who is not one. A person has one PIN: a
   * beneficiary who also represents others signs in with theirs. Throttled by the national code
   * typed, like the API's beneficiary sign-in, so the two entry points share one count. `remember`:
   * the person said this phone is their own, so the session lasts (docs/decisions/006).
   */
  async portal(nationalCode: string, pin: string, client: string, remember = false): Promise<Session & PortalIdentity> {
    const code = this.nationalCode(nationalCode);
    const lifetime = remember ? 'remembered' : 'portal';
    return this.inTurn(async () => {
      const [person, representative] = await Promise.all([
        this.usableBeneficiary(code),
        this.prisma.representative.findUnique({ where: { nationalCode: code } }),
      ]);
      if (person?.pinHash || !representative?.pinHash) {
        const identity = {
          beneficiaryId: (await this.checkBeneficiary(code, person, pin, client)).id,
          representativeId: representative?.id ?? null,
        };
        return { ...(await this.start(identity, 'BENEFICIARY', lifetime)), ...identity };
      }
      await this.check(`beneficiary:${code}`, client, toAsciiDigits(pin), representative.pinHash, (pinHash) =>
        this.prisma.representative.update({ where: { id: representative.id }, data: { pinHash } }),
      );
      const identity = { beneficiaryId: null, representativeId: representative.id };
      return { ...(await this.start(identity, 'REPRESENTATIVE', lifetime)), ...identity };
    });
  }

  /**
   * A sign-in in its turn of the queue: one refused at capacity (503) has looked nothing up and
   * checked nothing, so on payday a refusal costs neither PostgreSQL nor scrypt, and counts no
   * failure. Everything a sign-in does (the account, the hold-off, the check, a re-hash, the
   * session) runs inside the turn, so the queue's measured length of a turn is the whole of it.
   */
  private inTurn<T>(signIn: () => Promise<T>): Promise<T> {
    return this.settings.queue.run(signIn);
  }

  private nationalCode(text: string): string {
    const code = checkNationalCode(text);
    if (!code.ok) throw badField('nationalCode', code.reason);
    return code.value;
  }

  // The registry's read, not the per-request session lookup: a sign-in reads the one row by itself.
  private async usableBeneficiary(code: string) {
    const person = await beneficiaryByNationalCode(this.prisma, code);
    return person?.inProgram ? person : null;
  }

  private async checkBeneficiary(
    code: string,
    person: Awaited<ReturnType<SignInService['usableBeneficiary']>>,
    pin: string,
    client: string,
  ) {
    // PINs are stored as ASCII digits (PUT /beneficiaries/{id}/pin normalises them the same way).
    await this.check(`beneficiary:${code}`, client, toAsciiDigits(pin), person?.pinHash ?? null, (pinHash) =>
      setPinHash(this.prisma, person!.id, pinHash),
    );
    return person!;
  }

  /**
   * Throws 423 (held off) or 401 (wrong, or no such usable account); on success re-hashes an old
   * hash. Runs in a turn of the queue (inTurn).
   */
  private async check(
    account: string,
    client: string,
    secret: string,
    stored: string | null,
    rehash: (hash: string) => Promise<unknown>,
  ): Promise<void> {
    const pair = digest(account, client);
    const whole = digest(account);
    const {
      rows: [held],
    } = await this.sql.query<{ until: Date | null }>({
      name: 'sign-in-held',
      text: `SELECT max(locked_until AT TIME ZONE 'UTC') AS until FROM sign_in_throttle
             WHERE key = ANY($1) AND locked_until > now() AT TIME ZONE 'UTC'`,
      values: [[pair, whole]],
    });
    if (held?.until) throw new HeldOffError(held.until);
    // An old, cheaper hash would answer faster than an unknown account's: pad it to the same cost.
    const [ok] = await Promise.all([
      verifySecret(secret, stored ?? DUMMY_HASH),
      stored !== null && needsRehash(stored) ? verifySecret(secret, DUMMY_HASH) : null,
    ]);
    if (!ok || stored === null) {
      await this.recordFailure(pair, this.settings.maxFailures);
      // The account held off from every address: someone is guessing its PIN or password from
      // many places, so whatever sessions it has end too (a guess that got through among them).
      if (await this.recordFailure(whole, this.settings.maxFailures * ACCOUNT_WIDE_FACTOR))
        await this.endSessionsOf(account);
      throw new HttpError(401, WRONG_CREDENTIALS);
    }
    await this.sql.query({
      name: 'sign-in-clear',
      text: 'DELETE FROM sign_in_throttle WHERE key = $1',
      values: [pair],
    });
    if (needsRehash(stored)) await rehash(await hashSecret(secret));
  }

  /**
   * One failure, counted in the database (atomic under parallel attempts), then the hold-off it
   * earns; true when it holds the key off.
   */
  private async recordFailure(key: string, threshold: number): Promise<boolean> {
    const {
      rows: [row],
    } = await this.sql.query<{ failures: number }>({
      name: 'sign-in-failure',
      text: `INSERT INTO sign_in_throttle AS t (key, failures, last_failure_at) VALUES ($1, 1, now() AT TIME ZONE 'UTC')
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN t.last_failure_at < now() AT TIME ZONE 'UTC' - make_interval(hours => $2)
                               THEN 1 ELSE t.failures + 1 END,
               last_failure_at = now() AT TIME ZONE 'UTC'
             RETURNING failures`,
      values: [key, FORGET_AFTER_HOURS],
    });
    const minutes = lockMinutesAfter(row!.failures, threshold, this.settings.lockMinutes);
    if (minutes === null) return false;
    await this.sql.query({
      name: 'sign-in-hold',
      text: `UPDATE sign_in_throttle SET locked_until = GREATEST(COALESCE(locked_until, now() AT TIME ZONE 'UTC'),
               now() AT TIME ZONE 'UTC' + make_interval(mins => $2)) WHERE key = $1`,
      values: [key, minutes],
    });
    return true;
  }

  /** Ends every session of a typed account (`staff:NAME` or `beneficiary:CODE`: the person and the representative). */
  private async endSessionsOf(account: string): Promise<void> {
    const [kind, name] = [account.slice(0, account.indexOf(':')), account.slice(account.indexOf(':') + 1)];
    if (kind === 'staff') {
      const user = await this.prisma.user.findUnique({ where: { username: name }, select: { id: true } });
      if (user) await this.settings.endSessions({ userId: user.id });
      return;
    }
    const [person, representative] = await Promise.all([
      beneficiaryByNationalCode(this.prisma, name),
      this.prisma.representative.findUnique({ where: { nationalCode: name }, select: { id: true } }),
    ]);
    if (person) await this.settings.endSessions({ beneficiaryId: person.id });
    if (representative) await this.settings.endSessions({ representativeId: representative.id });
  }

  private async start(
    owner: { userId: number } | { beneficiaryId: number | null; representativeId?: number | null },
    role: string,
    kind: 'api' | 'portal' | 'remembered' = 'api',
  ): Promise<Session> {
    const token = newToken();
    const lifetime = sessionLifetime(kind, this.settings.lifetimes, new Date());
    await this.prisma.session.create({ data: { tokenHash: tokenHash(token), ...lifetime, ...owner } });
    return { token, expiresAt: lifetime.expiresAt.toISOString(), role, remembered: kind === 'remembered' };
  }
}
