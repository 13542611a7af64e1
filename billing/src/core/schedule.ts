// What the daily billing job should do at an instant. Pure.
// Every day it drafts the current month (so people and staff see the month building up); from the
// configured day of the next month on, it closes the previous month if it is still open.
import { monthBounds, monthOf, previousMonth, type MonthId } from '../../../lib/program/solar-hijri';

export type ScheduledAction = { kind: 'draft'; month: MonthId } | { kind: 'close'; month: MonthId };

export function scheduledActions(
  nowMs: number,
  closeDay: number,
  previousStatus: 'DRAFT' | 'CLOSED' | 'PAID' | null,
): ScheduledAction[] {
  const month = monthOf(nowMs);
  const dayOfMonth = Math.floor((nowMs - monthBounds(month).startMs) / 86_400_000) + 1;
  const previous = previousMonth(month);
  const actions: ScheduledAction[] = [];
  if (dayOfMonth >= closeDay && (previousStatus === null || previousStatus === 'DRAFT'))
    actions.push({ kind: 'close', month: previous });
  actions.push({ kind: 'draft', month });
  return actions;
}
