import { describe, expect, it } from 'vitest';
import { scheduledActions } from './schedule';
import { monthBounds } from '../../../lib/program/solar-hijri';

describe('scheduledActions', () => {
  const azar = monthBounds('1405-09').startMs;
  it('drafts the current month every day and closes the previous one from the close day on', () => {
    expect(scheduledActions(azar + 3_600_000, 5, 'DRAFT')).toEqual([{ kind: 'draft', month: '1405-09' }]);
    expect(scheduledActions(azar + 4 * 86_400_000 + 3_600_000, 5, 'DRAFT')).toEqual([
      { kind: 'close', month: '1405-08' },
      { kind: 'draft', month: '1405-09' },
    ]);
    expect(scheduledActions(azar + 9 * 86_400_000, 5, null)[0]).toEqual({ kind: 'close', month: '1405-08' });
  });
  it('leaves a closed or paid month alone', () => {
    expect(scheduledActions(azar + 9 * 86_400_000, 5, 'CLOSED')).toEqual([{ kind: 'draft', month: '1405-09' }]);
    expect(scheduledActions(azar + 9 * 86_400_000, 5, 'PAID')).toEqual([{ kind: 'draft', month: '1405-09' }]);
  });
});
