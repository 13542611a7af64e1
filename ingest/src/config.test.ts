import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/config';
import { readIngestConfig } from './config';

const valid = {
  MQTT_URL: 'mqtt://127.0.0.1:1883',
  MQTT_INGEST_USERNAME: 'svc:ingest',
  MQTT_INGEST_PASSWORD: 'x',
  INFLUX_URL: 'http://127.0.0.1:8086',
  INFLUX_WRITER_USERNAME: 'solar_ingest',
  INFLUX_WRITER_PASSWORD: 'x',
  INFLUX_READER_USERNAME: 'solar_reader',
  INFLUX_READER_PASSWORD: 'z',
  DATABASE_URL: 'postgresql://u:p@127.0.0.1:5432/solar',
};

describe('ingest configuration', () => {
  it('applies documented defaults', () => {
    const config = readIngestConfig(valid);
    expect(config).toMatchObject({
      workerId: '1',
      shareGroup: null, // one worker, a plain subscription: the broker keeps it across its restarts
      silenceMs: 30_000,
      maxPayloadBytes: 1_048_576,
      writesInFlight: 2,
      influx: { database: 'solar', rawRetention: '400d' },
    });
  });

  it('takes a share group for several workers, and refuses one MQTT cannot carry', () => {
    expect(readIngestConfig({ ...valid, INGEST_SHARE_GROUP: 'ingest' }).shareGroup).toBe('ingest');
    expect(() => readIngestConfig({ ...valid, INGEST_SHARE_GROUP: 'a/b' })).toThrow(/INGEST_SHARE_GROUP must be/);
  });

  it('reports every problem by variable name at once', () => {
    let error: unknown;
    try {
      readIngestConfig({
        ...valid,
        MQTT_URL: 'http://x',
        INGEST_WRITES_IN_FLIGHT: '0',
        INGEST_MAX_PAYLOAD_BYTES: '16777216',
        INGEST_WORKER_ID: 'a b',
        DATABASE_URL: '',
        MQTT_INGEST_USERNAME: 'ingest',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/INGEST_WORKER_ID must be/);
    expect(problems).toMatch(/INGEST_WRITES_IN_FLIGHT must be an integer from 1 to 16, got '0'/);
    // Above the contract's payload limit the broker would cut the device off before ingest could record it.
    expect(problems).toMatch(/INGEST_MAX_PAYLOAD_BYTES must be an integer from 1024 to 1048576, got '16777216'/);
    expect(problems).toMatch(/MQTT_URL must use mqtt: or mqtts:/);
    expect(problems).toMatch(/DATABASE_URL is required/);
    // A service account outside the svc: namespace could be taken by a device's serial.
    expect(problems).toMatch(/MQTT_INGEST_USERNAME must start with 'svc:'/);
  });

  it("writes as InfluxDB's writer and reads history as its reader, never the admin: a missing user or password is named", () => {
    expect(readIngestConfig(valid).influx).toMatchObject({ username: 'solar_ingest', password: 'x' });
    expect(readIngestConfig(valid).influxReader).toMatchObject({ username: 'solar_reader', password: 'z' });
    const withAdmin = readIngestConfig({ ...valid, INFLUX_ADMIN_USERNAME: 'solar_admin', INFLUX_ADMIN_PASSWORD: 'y' });
    expect(withAdmin.influx.username).toBe('solar_ingest');
    const { INFLUX_WRITER_USERNAME: _, INFLUX_WRITER_PASSWORD: __, ...withoutWriter } = valid;
    let error: unknown;
    try {
      readIngestConfig(withoutWriter);
    } catch (e) {
      error = e;
    }
    expect((error as ConfigError).problems).toEqual(
      expect.arrayContaining(['INFLUX_WRITER_USERNAME is required', 'INFLUX_WRITER_PASSWORD is required']),
    );
  });
});
