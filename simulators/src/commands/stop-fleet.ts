// How a simulated fleet running in real time ends (fleet, modbus): on Ctrl-C, SIGTERM or after
// --duration it stops, writes its ground truth and exits.
import { positiveNumber } from '../../../lib/cli';
import type { FleetModel } from '../fleet';

interface RunningFleet {
  readonly model: FleetModel;
  stop(): Promise<void>;
}

export function stopOnSignalOrDuration(
  name: string,
  fleet: RunningFleet,
  timer: NodeJS.Timeout,
  truthPath: string,
  duration: string | undefined,
): void {
  const stop = async () => {
    clearInterval(timer);
    await fleet.stop();
    fleet.model.truth.write(truthPath);
    process.stderr.write(`${name} stopped; ground truth ${truthPath}\n`);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  if (duration) setTimeout(() => void stop(), positiveNumber(duration, 'duration', 60) * 1000);
}
