// Publishes a burst of telemetry at full rate with QoS 1 (tests and benchmarks).
import type { MqttClient } from 'mqtt';
import { telemetryTopic } from '../lib/telemetry/contract';

export interface Burst {
  serials: string[];
  readings: number;
  /** Device timestamp of round 0; round k is baseTs + k s, so every (serial, ts) is unique. */
  baseTs: number;
  windowPerClient?: number;
  onProgress?: (published: number) => void;
}

export interface BurstResult {
  published: number;
  failed: number;
  ackMs: number[];
}

/** Reading k goes to serial k mod N in round floor(k / N); stored count == readings when nothing is lost. */
export function burstReading(burst: Burst, k: number): { topic: string; payload: string } {
  const serial = burst.serials[k % burst.serials.length]!;
  const round = Math.floor(k / burst.serials.length);
  return {
    topic: telemetryTopic(serial),
    payload: JSON.stringify({
      ts: burst.baseTs + round * 1000,
      energy_wh_total: 1_000_000 + round * 0.75, // 2,700 W for one second: within the rating (5 kW), as the door checks
      ac_power_w: 2500 + (k % 1000),
      state: 'MPPT',
      ac_voltage_v: 230.1,
      ac_frequency_hz: 50.01,
      temperature_c: 41.5,
      seq: round,
    }),
  };
}

export async function publishBurst(clients: MqttClient[], burst: Burst): Promise<BurstResult> {
  const window = burst.windowPerClient ?? 500;
  const result: BurstResult = { published: 0, failed: 0, ackMs: [] };
  await Promise.all(
    clients.map(
      (client, c) =>
        new Promise<void>((resolve) => {
          const mine = readingsOf(c, clients.length, burst);
          let next = mine.next();
          let inFlight = 0;
          const pump = () => {
            while (inFlight < window && !next.done) {
              const { topic, payload } = burstReading(burst, next.value);
              next = mine.next();
              const sent = performance.now();
              inFlight += 1;
              client.publish(topic, payload, { qos: 1 }, (error) => {
                inFlight -= 1;
                if (error) result.failed += 1;
                else {
                  result.published += 1;
                  result.ackMs.push(performance.now() - sent);
                  burst.onProgress?.(result.published);
                }
                if (next.done && inFlight === 0) resolve();
                else pump();
              });
            }
            if (next.done && inFlight === 0) resolve();
          };
          pump();
        }),
    ),
  );
  return result;
}

/**
 * The readings client `c` of `n` publishes: those of every n-th device, in order. A device publishes
 * over its one connection in order, as a real one does; spread over several connections its readings
 * would arrive out of order and each would take ingest's late-reading path (judged against InfluxDB).
 */
function* readingsOf(c: number, n: number, burst: Burst): Generator<number> {
  for (let k = 0; k < burst.readings; k += 1) if ((k % burst.serials.length) % n === c) yield k;
}
