import { describe, expect, it } from 'vitest';
import { BrokerLogReader, cutTimestampNs } from './broker-log';

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
});
