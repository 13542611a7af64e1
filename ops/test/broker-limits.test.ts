// The payload limit is stated once (lib/telemetry/contract.ts); the broker's packet limit that setup
// writes and ingest's setting follow it, so a device over it is recorded by ingest, not cut off unseen.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BROKER_MAX_PACKET_BYTES, MAX_PAYLOAD_BYTES } from '../../lib/telemetry/contract';
import { readIngestConfig } from '../../ingest';

describe('one payload limit from broker to ingest', () => {
  it("setup's max_packet_size is the contract's, and ingest's default is the contract's payload limit", () => {
    const setup = readFileSync('ops/setup.sh', 'utf8');
    const packets = [...setup.matchAll(/^max_packet_size (\d+)$/gm)].map((m) => Number(m[1]));
    expect(packets).toEqual([BROKER_MAX_PACKET_BYTES]);
    expect(BROKER_MAX_PACKET_BYTES).toBeGreaterThan(MAX_PAYLOAD_BYTES + 65_536); // room for topic and properties
    expect(readIngestConfig(process.env).maxPayloadBytes).toBeLessThanOrEqual(MAX_PAYLOAD_BYTES);
  });
});
