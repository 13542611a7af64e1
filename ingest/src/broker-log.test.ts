import { describe, expect, it } from 'vitest';
import { BrokerLogReader, cutTimestampNs, overShareAtBroker } from './broker-log';

describe("the broker's log", () => {
  it("names the account of a client whose packet the broker cut, from that client's connect line", () => {
    const log = new BrokerLogReader();
    expect(log.read("1796500000: New client connected from 127.0.0.1:50122 as logger 7 (p2, c1, k60, u'INV-1').")).toBe(
      null,
    );
    expect(log.read('1796500000: New client connected from 127.0.0.1:50123 as anon (p5, c1, k30).')).toBe(null);
    expect(log.read('1796500001: Client logger 7 disconnected due to oversize packet.')).toEqual({
      account: 'INV-1',
      clientId: 'logger 7',
      atSeconds: 1796500001,
    });
    expect(log.read('Client anon disconnected due to oversize packet.\n')).toEqual({
      account: null,
      clientId: 'anon',
      atSeconds: null,
    });
    // Forgotten once gone: the same client id later under another account is that account's.
    log.read("1796500002: New client connected from 127.0.0.1:50124 as c1 (p4, c1, k60, u'INV-2').");
    log.read('1796500003: Client c1 closed its connection.');
    expect(log.read('1796500004: Client c1 disconnected due to oversize packet.')).toEqual({
      account: null,
      clientId: 'c1',
      atSeconds: 1796500004,
    });
    expect(log.read('1796500005: Client c2 disconnected, not authorised.')).toBe(null);
  });

  it("times a cut's record by the broker's second and the client id: every worker writes the same point", () => {
    const cut = { account: 'INV-1', clientId: 'logger 7', atSeconds: 1796500001 };
    expect(cutTimestampNs(cut, 0)).toBe(cutTimestampNs({ ...cut }, 999_999));
    expect(cutTimestampNs(cut, 0)).toMatch(/^1796500001\d{9}$/);
    expect(cutTimestampNs({ ...cut, clientId: 'logger 8' }, 0)).not.toBe(cutTimestampNs(cut, 0));
  });

  it("reads the fair-share plugin's report of a device it slowed, and nothing else as one", () => {
    // As ops/broker/fair-share-plugin.c words it (lib/test/broker.test.ts sees the real broker say it).
    const line =
      '1796500010: fair share: device INV-9.a_1 over its share at the broker (20 messages/s, bursts of 1200; ' +
      '262144 bytes/s, bursts of 33554432): 17 message(s) of 17000000 bytes refused in the last 10 s, its connection closed each time';
    expect(overShareAtBroker(line)).toEqual({ serial: 'INV-9.a_1', messages: 17, bytes: 17_000_000 });
    expect(overShareAtBroker(line.replace('1796500010: ', ''))).toEqual(overShareAtBroker(line));
    expect(
      overShareAtBroker(
        '1796500010: fair share: each device 20 messages/s (bursts of 1200), 262144 bytes/s (bursts of 33554432)',
      ),
    ).toBe(null);
    expect(overShareAtBroker('1796500011: Client fair share: device X disconnected.')).toBe(null);
  });
});
