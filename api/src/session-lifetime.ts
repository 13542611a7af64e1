// How long a session lasts, by where it is used (docs/decisions/006-sessions-on-a-persons-own-phone.md).
// Pure: the sign-in writes what this says into the session's row, and the row carries its own
// renewal rule (sliding_days, renew_until), which the auth plugin applies in SQL as it is used.

export interface SessionLifetimes {
  /** Staff, the API's bearer tokens, and a portal session on a phone that is not only the person's. */
  ttlMinutes: number;
  /** A remembered portal session ends this many days after it was last used (sliding)... */
  rememberDays: number;
  /** ...and never later than this many days after the PIN was typed (at least `rememberDays`). */
  rememberMaxDays: number;
}

/** `api`: a bearer token; `portal`: the portal's cookie until the browser closes; `remembered`: on the person's own phone. */
export type SessionKind = 'api' | 'portal' | 'remembered';

export interface SessionRowLifetime {
  /** Only the portal's cookie may carry it; a bearer token never may (and the other way round). */
  portal: boolean;
  expiresAt: Date;
  /** Each use moves the end this many days on (at most once a day); null: it never moves. */
  slidingDays: number | null;
  /** The latest it can be moved to. */
  renewUntil: Date | null;
}

const DAY_MS = 86_400_000;

export function sessionLifetime(kind: SessionKind, lifetimes: SessionLifetimes, now: Date): SessionRowLifetime {
  if (kind !== 'remembered')
    return {
      portal: kind === 'portal',
      expiresAt: new Date(now.getTime() + lifetimes.ttlMinutes * 60_000),
      slidingDays: null,
      renewUntil: null,
    };
  const renewUntil = new Date(now.getTime() + Math.max(lifetimes.rememberMaxDays, lifetimes.rememberDays) * DAY_MS);
  return {
    portal: true,
    expiresAt: new Date(now.getTime() + lifetimes.rememberDays * DAY_MS),
    slidingDays: lifetimes.rememberDays,
    renewUntil,
  };
}
