// The Alertmanager configuration setup writes for a profile: its webhooks (the watchdog's always,
// the operators' when set) reach the monitor of that profile, which relays them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe("setup's Alertmanager configuration", () => {
  it("posts to this profile's monitor (MONITOR_PORT), not the default port", () => {
    // Setup ran the generator without MONITOR_PORT in its environment: every post went to 9465,
    // where no monitor listens, and no platform alert reached a receiver (seen on the clean host).
    const config = readFileSync(join(process.env.SOLAR_DATA_DIR!, 'alertmanager/alertmanager.yml'), 'utf8');
    const urls = [...config.matchAll(/"url": "([^"]+)"/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${process.env.MONITOR_PORT}/`));
  });
});
