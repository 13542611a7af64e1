import { describe, expect, it } from 'vitest';
import { encodeRejection, processMessage, type RegisteredInverter, type ValidationLimits } from './process-message';

const NOW = Date.parse('2026-11-25T08:00:00Z');
const inverters: Record<string, RegisteredInverter> = {
  INV1: { installation: 'YZD-001', province: 'yazd', ratedAcW: 5000, replacedAtMs: null },
};
const lookup = (serial: string) => inverters[serial];
const limits: ValidationLimits = {
  maxPayloadBytes: 10_000,
  maxReadingsPerMessage: 100,
  maxClockAheadMs: 300_000,
  powerTolerancePercent: 130,
  retentionMs: 400 * 86_400_000,
};
const reading = (overrides: Record<string, unknown> = {}) => ({
  ts: NOW - 60_000,
  energy_wh_total: 1000.5,
  ac_power_w: 3200,
  state: 'MPPT',
  ...overrides,
});
const run = (body: unknown, topic = 'solar/v1/INV1/telemetry') =>
  processMessage(topic, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)), NOW, lookup, limits);

describe('processMessage', () => {
  it('encodes a valid reading with registry tags, float fields and the inverter timestamp in ns', () => {
    const result = run(reading({ seq: 7, events: ['GRID_OK'], ts: '2026-11-25T07:59:00Z' }));
    expect(result.rejections).toEqual([]);
    expect(result.readings).toBe(1);
    expect(result.lines).toEqual([
      `telemetry,installation=YZD-001,province=yazd,serial=INV1 ` +
        `energy_wh_total=1000.5,ac_power_w=3200,state="MPPT",seq=7i,events="[\\"GRID_OK\\"]" ${Date.parse('2026-11-25T07:59:00Z')}000000`,
    ]);
  });

  it('accepts a datalogger buffer and rejects only the bad readings in it', () => {
    const result = run([
      reading({ ts: NOW - 3_600_000 }),
      reading({ ac_power_w: 'high' }),
      reading({ ts: NOW - 1_800_000 }),
    ]);
    expect(result.readings).toBe(2);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]).toMatchObject({ reason: 'invalid_reading', serial: 'INV1' });
    expect(result.rejections[0]!.detail).toMatch(/^reading \[1\]: ac_power_w: /);
  });

  it.each([
    ['malformed JSON', '{"ts":', 'malformed_json', /not JSON/],
    ['a missing field', reading({ state: undefined }), 'invalid_reading', /state/],
    ['a wrong type', reading({ energy_wh_total: '12' }), 'invalid_reading', /energy_wh_total/],
    ['a negative counter', reading({ energy_wh_total: -1 }), 'invalid_reading', /energy_wh_total/],
    ['an unknown state', reading({ state: 'DANCING' }), 'invalid_reading', /state/],
    [
      'power far above the rating',
      reading({ ac_power_w: 9000 }),
      'implausible_value',
      /exceeds 130 % of the inverter's rating \(5000 W\)/,
    ],
    [
      'a timestamp in the future',
      reading({ ts: NOW + 3_600_000 }),
      'timestamp_in_future',
      /ahead of the platform clock/,
    ],
    ['a timestamp in seconds', reading({ ts: Math.floor(NOW / 1000) }), 'invalid_reading', /looks like seconds/],
    ['a timestamp beyond retention', reading({ ts: NOW - 500 * 86_400_000 }), 'timestamp_too_old', /retention/],
    ['a timestamp without offset', reading({ ts: '2026-11-25 07:00:00' }), 'invalid_reading', /RFC 3339/],
    ['a day February does not have', reading({ ts: '2024-02-31T10:00:00Z' }), 'invalid_reading', /calendar date/],
    ['hour 24', reading({ ts: '2024-01-01T24:00:00Z' }), 'invalid_reading', /not a time of day/],
    ['an offset of 24 hours', reading({ ts: '2024-01-01T10:00:00+24:00' }), 'invalid_reading', /not a time of day/],
    ['epoch milliseconds past year 9999', reading({ ts: 1e17 }), 'invalid_reading', /after 9999-12-31/],
    ['an empty array', [], 'invalid_payload', /empty array/],
    ['a non-object reading', [42], 'invalid_reading', /expected an object, got number/],
  ])('rejects %s with its reason', (_name, body, reason, detail) => {
    const result = run(body);
    expect(result.lines).toEqual([]);
    expect(result.rejections).toHaveLength(1);
    expect(result.rejections[0]!.reason).toBe(reason);
    expect(result.rejections[0]!.detail).toMatch(detail);
  });

  it('rejects unknown inverters, bad topics, oversized payloads and too many readings', () => {
    expect(run(reading(), 'solar/v1/NOPE/telemetry').rejections[0]).toMatchObject({
      reason: 'unknown_device',
      serial: 'NOPE',
    });
    expect(run(reading(), 'solar/v1/INV1/telemetry/extra').rejections[0]!.reason).toBe('bad_topic');
    expect(run(reading(), 'solar/v1/bad serial!/telemetry').rejections[0]!.reason).toBe('bad_topic');
    expect(run(reading(), 'solar/v1/INV1/config').rejections[0]!.reason).toBe('bad_topic');
    expect(run('x'.repeat(10_001)).rejections[0]).toMatchObject({ reason: 'payload_too_large', payloadBytes: 10_001 });
    expect(run(Array.from({ length: 101 }, () => reading())).rejections[0]!.detail).toMatch(
      /101 readings, the limit is 100/,
    );
  });

  it('records status messages and rejects unknown ones', () => {
    const online = processMessage('solar/v1/INV1/status', Buffer.from('online'), NOW, lookup, limits);
    expect(online.lines).toEqual([
      `device_status,installation=YZD-001,province=yazd,serial=INV1 online=true ${NOW}000000`,
    ]);
    expect(
      processMessage('solar/v1/INV1/status', Buffer.from('maybe'), NOW, lookup, limits).rejections[0]!.reason,
    ).toBe('invalid_status');
  });

  it('keeps the raw payload of a rejection, escaped, and marks binary payloads', () => {
    const [rejection] = run('{"a":"quote\\" and\nnewline').rejections;
    const line = encodeRejection(rejection!, 'w1', '1000');
    expect(line).toMatch(
      new RegExp(
        /^rejected_message,reason=malformed_json,worker=w1 detail="payload is not JSON: .*",/.source +
          /topic="solar\/v1\/INV1\/telemetry",serial="INV1",/.source +
          /payload="\{\\"a\\":\\"quote\\\\\\" and\\\\nnewline",payload_bytes=25i,truncated=false,readings=1i 1000$/
            .source,
      ),
    );
    const binary = processMessage('solar/v1/INV1/telemetry', Buffer.from([0xff, 0xfe, 0x00]), NOW, lookup, limits)
      .rejections[0]!;
    expect(encodeRejection(binary, 'w1', '1')).toContain('payload="base64://4A"');
  });
});
