// The gateway's configuration file holds the broker password: a file that is not JSON is refused
// with the kind of mistake and where, never with the text around it (V8 quotes that text). Only
// what differs per site is required; the rest gets the defaults gateway/README.md documents.
import { describe, expect, it } from 'vitest';
import { parseGatewayConfig } from './config';

const PASSWORD = 'GwPassSentinel7Qx';
const valid = {
  gatewayId: 'gw-1',
  broker: { url: 'mqtts://127.0.0.1:8883', caFile: '/etc/solar/ca.crt', username: 'gw:gw-1', password: PASSWORD },
  pollSeconds: 10,
  outbox: { dir: '/var/lib/solar-gateway', maxBytes: 64 * 1024 * 1024 },
  links: [{ kind: 'tcp', host: '10.0.0.5', port: 502, inverters: [{ serial: 'INV-1', unitId: 1 }] }],
};
const text = JSON.stringify(valid, null, 2);
/** Every piece of the password four characters long: a quoted fragment leaks as much. */
const pieces = [...PASSWORD].map((_, k) => PASSWORD.slice(k, k + 4)).filter((p) => p.length === 4);

describe('gateway configuration file', () => {
  it('reads a valid file', () => {
    expect(parseGatewayConfig(text, 'gw.json').broker.password).toBe(PASSWORD);
  });

  it.each([
    ['single quotes', text.replace(`"${PASSWORD}"`, `'${PASSWORD}'`)],
    ['unquoted', text.replace(`"${PASSWORD}"`, PASSWORD)],
    ['a trailing comma', text.replace(`"${PASSWORD}"`, `"${PASSWORD}",`)],
    ['a missing comma', text.replace(`"${PASSWORD}"`, `"${PASSWORD}" "x": 1`)],
    ['a line break inside', text.replace(`"${PASSWORD}"`, `"${PASSWORD.slice(0, 8)}\n${PASSWORD.slice(8)}"`)],
    ['cut short', text.slice(0, text.indexOf(PASSWORD) + 6)],
    ['trailing text', `${text} ${PASSWORD}`],
  ])('refuses a file with %s without quoting any of the password', (_, broken) => {
    let message = '';
    try {
      parseGatewayConfig(broken, 'gw.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^gw\.json: not JSON: \S/);
    for (const piece of pieces) expect(message, message).not.toContain(piece);
  });

  it('fills in the documented defaults for what a minimal file leaves out', () => {
    const { gatewayId, broker, links } = valid;
    const minimal = JSON.stringify({ gatewayId, broker, links });
    expect(parseGatewayConfig(minimal, 'gw.json', { STATE_DIRECTORY: '/var/lib/solar-gateway' })).toMatchObject({
      pollSeconds: 10,
      outbox: { dir: '/var/lib/solar-gateway/outbox', maxBytes: 64 * 1024 * 1024 },
      fleet: { gateways: 2000, connectsPerSecond: 20, readingsPerSecond: 10_000 },
    });
    expect(parseGatewayConfig(minimal, 'gw.json', { STATE_DIRECTORY: '/srv/gw' }).outbox.dir).toBe('/srv/gw/outbox');
    expect(parseGatewayConfig(minimal, 'gw.json', {}).outbox.dir).toBe('/var/lib/solar-gateway/outbox');
    // A default is only a default: the file's own values win, and are checked.
    const own = JSON.stringify({
      gatewayId,
      broker,
      links,
      pollSeconds: 60,
      outbox: { maxBytes: 8 << 20 },
      fleet: { gateways: 50 },
    });
    expect(parseGatewayConfig(own, 'gw.json', {})).toMatchObject({
      pollSeconds: 60,
      outbox: { dir: '/var/lib/solar-gateway/outbox', maxBytes: 8 << 20 },
      fleet: { gateways: 50, connectsPerSecond: 20, readingsPerSecond: 10_000 },
    });
    expect(() =>
      parseGatewayConfig(JSON.stringify({ gatewayId, broker, links, pollSeconds: 0 }), 'gw.json', {}),
    ).toThrow(/^gw\.json: \/pollSeconds: /);
    expect(() =>
      parseGatewayConfig(JSON.stringify({ gatewayId, broker, links, fleet: { gateways: 0 } }), 'gw.json', {}),
    ).toThrow(/^gw\.json: \/fleet\/gateways: /);
  });
});
