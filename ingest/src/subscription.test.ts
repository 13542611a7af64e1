import { describe, expect, it } from 'vitest';
import { isStarved, subscribeAnswer } from './subscription';

const base = {
  nowMs: 100_000,
  lastMessageAtMs: 60_000,
  silenceMs: 30_000,
  brokerPublishes: 500,
  brokerPublishesAtLastMessage: 400,
  minUnseenPublishes: 20,
};

describe('connected but receiving nothing', () => {
  it('is starvation only when the broker received publishes this worker did not see, for long enough', () => {
    expect(isStarved(base)).toBe(true);
    expect(isStarved({ ...base, lastMessageAtMs: 80_000 })).toBe(false); // not silent long enough
    expect(isStarved({ ...base, brokerPublishes: 410 })).toBe(false); // the fleet is quiet (night)
    expect(isStarved({ ...base, brokerPublishes: null })).toBe(false); // no counter: no judgement
  });

  it('counts everything since a broker restart as unseen (the counter starts again at zero)', () => {
    expect(isStarved({ ...base, brokerPublishes: 25, brokerPublishesAtLastMessage: 400 })).toBe(true);
    expect(isStarved({ ...base, brokerPublishes: 5, brokerPublishesAtLastMessage: 400 })).toBe(false);
    expect(isStarved({ ...base, brokerPublishes: 25, brokerPublishesAtLastMessage: null })).toBe(true);
  });
});

describe("a SUBSCRIBE's answer", () => {
  const grant = [{ topic: '$SYS/broker/publish/messages/received', qos: 0 as const }];
  const suback = (granted: number) => ({ cmd: 'suback' as const, messageId: 7, granted: [granted] });

  it('tells a refusal (a SUBACK saying no) from a connection lost before any SUBACK', () => {
    expect(subscribeAnswer(null, grant, suback(0))).toBe('granted');
    expect(subscribeAnswer(new Error('Subscribe error: Not authorized'), grant, suback(0x87))).toBe('refused');
    expect(subscribeAnswer(new Error('Connection closed'), grant, undefined)).toBe('lost');
  });
});
