// How failed sign-ins slow an attacker down without locking the owner out. Pure.
//
// Failures are counted per typed account *and client address*, and per typed account from all
// addresses, whether or not the account exists (so the answers cannot tell them apart):
// - one address that fails `maxFailures` times on an account is held off that account for
//   `lockMinutes`, doubling with every further `maxFailures` failures, at most a day; the owner,
//   from their own address, can still sign in;
// - the account itself is held off from every address only after `ACCOUNT_WIDE_FACTOR` times as
//   many failures, which takes an attacker with many addresses; the same doubling applies.
// A count is forgotten a day after its last failure; a success clears its address's count.
export interface SignInPolicy {
  maxFailures: number;
  lockMinutes: number;
}

export const ACCOUNT_WIDE_FACTOR = 4;
export const FORGET_AFTER_HOURS = 24;
const MAX_LOCK_MINUTES = 24 * 60;

/** Minutes to hold off after this many failures with this threshold (null: not yet). */
export function lockMinutesAfter(failures: number, threshold: number, lockMinutes: number): number | null {
  if (failures < threshold) return null;
  const doublings = Math.floor(failures / threshold) - 1;
  return Math.min(MAX_LOCK_MINUTES, lockMinutes * 2 ** Math.min(doublings, 20));
}
