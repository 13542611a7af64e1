// A child process for the outbox's kill -9 test: appends one poll of readings after another and
// prints each one's sequence number once append() returned (the reading is then on disk).
import { Outbox } from '../src/outbox';

const [dir, maxBytes, segmentBytes] = process.argv.slice(2);
const outbox = Outbox.open({ dir: dir!, maxBytes: Number(maxBytes), segmentBytes: Number(segmentBytes) });
let seq = outbox.stats().pendingReadings;
for (;;) {
  seq += 1;
  outbox.append([
    {
      serial: 'KILL-1',
      reading: { ts: 1_780_000_000_000 + seq * 60_000, energy_wh_total: seq, ac_power_w: 1, state: 'MPPT', seq },
    },
  ]);
  process.stdout.write(`${seq}\n`);
}
