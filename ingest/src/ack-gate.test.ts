import { describe, expect, it } from 'vitest';
import { AckGate } from './ack-gate';

describe('AckGate: a PUBACK waits until the journal backlog is back under its limit', () => {
  it('acknowledges at once within the limit, holds past it, and lets go in order under 90 % of it', () => {
    let backlog = 0;
    const holds: boolean[] = [];
    const gate = new AckGate(
      1000,
      () => backlog,
      (holding) => holds.push(holding),
    );
    const acked: string[] = [];
    gate.pass(() => acked.push('a'));
    backlog = 1000;
    gate.pass(() => acked.push('b')); // at the limit: still within it
    backlog = 1001;
    gate.pass(() => acked.push('c'));
    backlog = 500;
    gate.pass(() => acked.push('d')); // behind the held one, whatever the backlog: acks keep their order
    expect(acked).toEqual(['a', 'b']);
    expect(gate.holding).toBe(true);
    backlog = 901;
    gate.release(); // the drainer stored a batch, not enough yet
    expect(acked).toEqual(['a', 'b']);
    backlog = 900;
    gate.release();
    expect(acked).toEqual(['a', 'b', 'c', 'd']);
    expect(gate.holding).toBe(false);
    expect(holds).toEqual([true, false]);
    gate.release(); // nothing held: nothing happens
    expect(holds).toEqual([true, false]);
  });
});
