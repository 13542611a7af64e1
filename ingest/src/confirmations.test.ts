// What a confirmation request may ask of ingest: its own serial's stored topic, a short printable id.
import type { IPublishPacket } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { confirmationRequest } from './confirmations';

const packet = (topic: string, responseTopic?: string, id?: string): IPublishPacket => ({
  cmd: 'publish',
  topic,
  payload: '[]',
  qos: 1,
  dup: false,
  retain: false,
  properties: {
    ...(responseTopic === undefined ? {} : { responseTopic }),
    ...(id === undefined ? {} : { correlationData: Buffer.from(id) }),
  },
});

describe('confirmation requests', () => {
  it("are honoured only for the message's own serial, on its stored topic, with a short printable id", () => {
    expect(confirmationRequest(packet('solar/v1/INV-1/telemetry', 'solar/stored/v1/INV-1', 'a1-7'))).toEqual({
      serial: 'INV-1',
      id: 'a1-7',
    });
    for (const [topic, responseTopic, id] of [
      ['solar/v1/INV-1/telemetry', undefined, 'a1-7'], // asks nothing
      ['solar/v1/INV-1/telemetry', 'solar/stored/v1/INV-1', undefined],
      ['solar/v1/INV-1/telemetry', 'solar/stored/v1/INV-2', 'a1-7'], // another serial's topic
      ['solar/v1/INV-1/telemetry', 'solar/v1/INV-1/telemetry', 'a1-7'], // anywhere else
      ['solar/v1/INV-1/status', 'solar/stored/v1/INV-1', 'a1-7'], // status is not stored
      ['solar/v1/INV-1/telemetry', 'solar/stored/v1/INV-1', 'x'.repeat(65)],
      ['solar/v1/INV-1/telemetry', 'solar/stored/v1/INV-1', 'a b'],
      ['solar/v1/INV:1/telemetry', 'solar/stored/v1/INV:1', 'a1-7'], // not a serial
    ] as const)
      expect(confirmationRequest(packet(topic, responseTopic, id)), `${topic} ${responseTopic} ${id}`).toBeNull();
  });
});
