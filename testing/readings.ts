// Readings as ingest writes them (every field a datalogger sends, line protocol of the `telemetry`
// measurement), one every 15 minutes in Tehran's daylight and none at night: the disk and restore
// benchmarks' fleet history.
import { sinceTehranMidnightMs } from '../lib/program/tehran-time';

const STEP_MS = 15 * 60_000;
const DAY = 86_400_000;
const pad = (n: number) => String(n).padStart(5, '0');

/** Calls `emit` with each reading's line for `devices` inverters over `days` from `startMs`; returns how many. */
export async function writeReadings(
  emit: (line: string) => Promise<void>,
  devices: number,
  days: number,
  startMs: number,
  progress: (message: string) => void,
): Promise<number> {
  let readings = 0;
  for (let d = 1; d <= devices; d++) {
    const tags = `telemetry,installation=D-${pad(d)},province=p${d % 31},serial=DINV-${pad(d)}`;
    let wh = 5_000_000 + d * 1009;
    let seq = 0;
    for (let t = startMs; t < startMs + days * DAY; t += STEP_MS) {
      const solarHour = sinceTehranMidnightMs(t) / 3_600_000 - 6; // hours after 06:00 Tehran
      if (solarHour < 0 || solarHour > 12) continue;
      const wobble = ((d * 7 + t / STEP_MS) % 13) / 100;
      const power = Math.max(0, Math.round(4_600 * Math.sin((Math.PI * solarHour) / 12) * (0.85 + wobble)));
      wh += Math.round(power / 4);
      const jitter = ((d * 31 + t / STEP_MS) % 17) / 10;
      await emit(
        `${tags} energy_wh_total=${wh},ac_power_w=${power},state="${power > 0 ? 'MPPT' : 'SLEEPING'}` +
          `",dc_voltage_v=${(380 + jitter).toFixed(1)},dc_current_a=${(power / 380).toFixed(2)},ac_voltage_v=` +
          `${(229 + jitter).toFixed(1)},ac_frequency_hz=${(50 + jitter / 100).toFixed(2)},temperature_c=` +
          `${(30 + solarHour + jitter).toFixed(1)},seq=${seq++}i ${t}000000`,
      );
      readings++;
    }
    if (d % 500 === 0) progress(`  ${d}/${devices} devices, ${readings} readings`);
  }
  return readings;
}
