// Reminders: repeat on a schedule until someone acknowledges, not while muted, at most N times.
export interface ReminderPolicy {
  intervalMinutes: number;
  maxReminders: number;
}
export interface ReminderState {
  id: bigint;
  state: string;
  mutedUntil: Date | null;
  remindersSent: number;
  nextReminderAt: Date | null;
}
export interface Reminder {
  id: bigint;
  sequence: number;
  nextReminderAt: Date | null;
}

/** When the first reminder of an alert opened at `openedMs` is due (null: reminders are off). */
export const firstReminderAt = (openedMs: number, policy: ReminderPolicy): Date | null =>
  policy.maxReminders > 0 ? new Date(openedMs + policy.intervalMinutes * 60_000) : null;

export function dueReminders(alerts: ReminderState[], nowMs: number, policy: ReminderPolicy): Reminder[] {
  const due: Reminder[] = [];
  for (const a of alerts) {
    if (a.state !== 'OPEN' || !a.nextReminderAt || a.nextReminderAt.getTime() > nowMs) continue;
    if (a.mutedUntil && a.mutedUntil.getTime() > nowMs) continue;
    if (a.remindersSent >= policy.maxReminders) continue;
    const sequence = a.remindersSent + 1;
    due.push({
      id: a.id,
      sequence,
      nextReminderAt: sequence < policy.maxReminders ? new Date(nowMs + policy.intervalMinutes * 60_000) : null,
    });
  }
  return due;
}
