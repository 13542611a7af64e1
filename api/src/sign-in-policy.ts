// Lock-out after repeated failures, the same for staff and beneficiaries. Pure.
export interface SignInState {
  failedSignIns: number;
  lockedUntil: Date | null;
}
export interface SignInPolicy {
  maxFailures: number;
  lockMinutes: number;
}

export const isLocked = (state: SignInState, now: Date) => state.lockedUntil !== null && state.lockedUntil > now;

/** The account state after an attempt (the caller has checked it was not locked). */
export function afterAttempt(state: SignInState, succeeded: boolean, now: Date, policy: SignInPolicy): SignInState {
  if (succeeded) return { failedSignIns: 0, lockedUntil: null };
  const failed = state.failedSignIns + 1;
  if (failed >= policy.maxFailures)
    return { failedSignIns: 0, lockedUntil: new Date(now.getTime() + policy.lockMinutes * 60_000) };
  return { failedSignIns: failed, lockedUntil: null };
}
