// Free space where the journal lives, watched so acknowledgements are held *before* the disk is
// full (the reserve leaves room for the checkpoint, the dead letters and the rest of the machine).
import { statfs } from 'node:fs';

/** Free bytes below this hold acknowledgements; the hold ends with 10 % (at least 64 KiB) above it. */
export function isDiskLow(freeBytes: number, reserveBytes: number, wasLow: boolean): boolean {
  if (reserveBytes <= 0) return false;
  return freeBytes < (wasLow ? reserveBytes + Math.max(reserveBytes * 0.1, 65_536) : reserveBytes);
}

export class DiskSpace {
  /** Bytes available to this process on the journal's filesystem (null until the first reading). */
  freeBytes: number | null = null;
  low = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    private readonly reserveBytes: number,
    intervalMs: number,
    private readonly onChange: (low: boolean) => void,
  ) {
    this.timer = setInterval(() => this.poll(), intervalMs).unref();
    this.poll();
  }

  poll(): void {
    statfs(this.dir, (error, stats) => {
      if (error) return; // the journal's own writes report a failing disk
      this.freeBytes = stats.bavail * stats.bsize;
      const low = isDiskLow(this.freeBytes, this.reserveBytes, this.low);
      if (low !== this.low) {
        this.low = low;
        this.onChange(low);
      }
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
