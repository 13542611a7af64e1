// A local, append-only journal of line-protocol records, in numbered segment files.
//
// Why: an MQTT QoS 1 message may be acknowledged only once its readings are durably recorded, and
// mqtt.js delivers the next message only after the previous one is acknowledged. Waiting for an
// InfluxDB round trip per message would serialise the connection. Instead each message's lines are
// appended with one write(2) — after which they survive the ingest process being killed — and the
// message is acknowledged; a drainer ships the journal to InfluxDB in large batches and advances a
// checkpoint only after InfluxDB has stored them. After a crash, everything past the checkpoint is
// shipped again: InfluxDB overwrites identical points, so replays are harmless.
// Durability against a power loss of the whole machine is bounded by `fsyncIntervalMs`.
import {
  closeSync,
  existsSync,
  fdatasync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { Backlog } from './backlog';
import { acquireProcessLock, LockHeldError, type ProcessLock } from './process-lock';

export interface JournalPosition {
  segment: number;
  offset: number;
}
export interface JournalBatch {
  from: JournalPosition;
  to: JournalPosition;
  data: Buffer;
  bytes: number;
}

const SEGMENT_SUFFIX = '.lp';
const segmentName = (n: number) => `${String(n).padStart(12, '0')}${SEGMENT_SUFFIX}`;

export interface JournalOptions {
  dir: string;
  segmentBytes: number;
  fsyncIntervalMs: number;
  onWarning?: (message: string) => void;
}

export class Journal {
  private writeFd = -1;
  private writeSegment = 0;
  private writeOffset = 0;
  private readonly segmentSizes = new Map<number, number>(); // closed segments still holding unshipped data
  private read: JournalPosition;
  private checkpoint: JournalPosition;
  private readonly done: JournalBatch[] = [];
  private readonly inFlight: JournalBatch[] = [];
  private appendedSinceSync = false;
  private checkpointUnsaved = false;
  private readonly syncTimer: NodeJS.Timeout;
  private readonly lock: ProcessLock;
  private readonly checkpointPath: string;
  private readonly backlog: Backlog;

  constructor(private readonly options: JournalOptions) {
    mkdirSync(options.dir, { recursive: true });
    this.checkpointPath = join(options.dir, 'checkpoint.json');
    this.lock = lockJournal(options.dir);
    this.checkpoint = this.loadCheckpoint();
    const segments = this.listSegments();
    for (const n of segments) {
      if (n < this.checkpoint.segment) {
        unlinkSync(join(options.dir, segmentName(n)));
        continue;
      }
      const fd = openSync(join(options.dir, segmentName(n)), 'r');
      this.segmentSizes.set(n, fstatSync(fd).size);
      closeSync(fd);
    }
    let recovered = 0;
    for (const [n, size] of this.segmentSizes)
      recovered += n === this.checkpoint.segment ? Math.max(0, size - this.checkpoint.offset) : size;
    this.backlog = new Backlog(recovered, Date.now());
    this.read = { ...this.checkpoint };
    // Never append to a segment that may end in a torn write: always start a fresh one.
    this.openWriteSegment(Math.max(this.checkpoint.segment, ...segments, 0) + 1);
    this.syncTimer = setInterval(() => this.syncToDisk(), options.fsyncIntervalMs).unref();
  }

  /** Recovered + appended bytes not yet confirmed stored. */
  get backlogBytes(): number {
    return this.backlog.bytes;
  }

  /** Age of the oldest unconfirmed data, ms (0 when the backlog is empty). */
  lagMs(nowMs: number): number {
    return this.backlog.lagMs(nowMs);
  }

  /** Bytes appended that no batch has picked up yet. */
  get unreadBytes(): number {
    let unread = 0;
    for (const [n, size] of this.segmentSizes)
      if (n >= this.read.segment) unread += n === this.read.segment ? size - this.read.offset : size;
    return unread + (this.read.segment === this.writeSegment ? this.writeOffset - this.read.offset : this.writeOffset);
  }

  /** Appends one record (whole lines ending in '\n') with a single write: all of it or, on a crash, a torn tail that is never acknowledged. */
  append(record: Buffer): void {
    if (this.writeOffset > 0 && this.writeOffset + record.length > this.options.segmentBytes) this.rotate();
    let written = 0;
    while (written < record.length)
      written += writeSync(this.writeFd, record, written, record.length - written, this.writeOffset + written);
    this.writeOffset += record.length;
    this.backlog.noteAppended(record.length, Date.now());
    this.appendedSinceSync = true;
  }

  /** The next unread run of whole lines, up to maxBytes, or null when nothing is unread. */
  nextBatch(maxBytes: number): JournalBatch | null {
    for (;;) {
      const isWriteSegment = this.read.segment === this.writeSegment;
      const size = isWriteSegment ? this.writeOffset : this.segmentSizes.get(this.read.segment);
      if (size === undefined) {
        if (this.read.segment >= this.writeSegment) return null;
        this.read = { segment: this.read.segment + 1, offset: 0 };
        continue;
      }
      const available = size - this.read.offset;
      if (available <= 0) {
        if (isWriteSegment) return null;
        this.read = { segment: this.read.segment + 1, offset: 0 };
        this.retireEmptyPrefix();
        continue;
      }
      const length = Math.min(available, maxBytes);
      const data = Buffer.allocUnsafe(length);
      const fd = isWriteSegment ? this.writeFd : openSync(join(this.options.dir, segmentName(this.read.segment)), 'r');
      try {
        let got = 0;
        while (got < length) {
          const n = readSync(fd, data, got, length - got, this.read.offset + got);
          if (n === 0) break;
          got += n;
        }
      } finally {
        if (!isWriteSegment) closeSync(fd);
      }
      const lastNewline = data.lastIndexOf(0x0a);
      if (lastNewline < 0) {
        if (isWriteSegment && length < maxBytes) return null; // cannot happen: records end in '\n'
        // A closed segment ending without a newline: the torn tail of a crash, never acknowledged.
        this.options.onWarning?.(`journal segment ${this.read.segment}: skipping ${available} bytes of torn tail`);
        this.backlog.noteStored(available);
        this.read = { segment: this.read.segment + 1, offset: 0 };
        continue;
      }
      const bytes = lastNewline + 1;
      const from = { ...this.read };
      this.read = { segment: this.read.segment, offset: this.read.offset + bytes };
      const batch = { from, to: { ...this.read }, data: data.subarray(0, bytes), bytes };
      this.inFlight.push(batch);
      return batch;
    }
  }

  /** Marks a batch stored; the checkpoint advances over every contiguous stored batch. */
  confirm(batch: JournalBatch): void {
    this.done.push(batch);
    let advanced = false;
    while (this.inFlight.length > 0) {
      const head = this.inFlight[0]!;
      const i = this.done.indexOf(head);
      if (i < 0) break;
      this.done.splice(i, 1);
      this.inFlight.shift();
      this.checkpoint = head.to;
      this.backlog.noteStored(head.bytes);
      advanced = true;
    }
    if (!advanced) return;
    // Past the end of a closed segment: point at the next one, so the closed one can be deleted now
    // rather than when data written after it is stored (while acks are held, none may come).
    while (
      this.checkpoint.segment < this.writeSegment &&
      this.checkpoint.offset >= (this.segmentSizes.get(this.checkpoint.segment) ?? 0)
    )
      this.checkpoint = { segment: this.checkpoint.segment + 1, offset: 0 };
    this.checkpointUnsaved = true;
    this.saveCheckpoint();
    this.retireEmptyPrefix();
  }

  /**
   * Writes the checkpoint if the last attempt failed (a full or failing disk): true once it is on disk.
   * Until then the checkpoint on disk is older: a restart ships again what InfluxDB already has
   * (harmless, points overwrite themselves), and shipped segments are deleted anyway, to free space.
   */
  saveCheckpoint(): boolean {
    if (!this.checkpointUnsaved) return true;
    const tmp = `${this.checkpointPath}.tmp`;
    try {
      writeFileSync(tmp, JSON.stringify(this.checkpoint));
      renameSync(tmp, this.checkpointPath);
      this.checkpointUnsaved = false;
      return true;
    } catch (error) {
      try {
        unlinkSync(tmp); // a partial draft would only take space
      } catch {}
      this.options.onWarning?.(`cannot save the journal checkpoint (${(error as Error).message}); retrying`);
      return false;
    }
  }

  /**
   * Frees the space of shipped data without waiting for the write segment to fill (called while the
   * disk is short): if the write segment holds shipped data, it is closed so that it is deleted as
   * soon as the rest of it is stored; if everything is stored, it is deleted at once. Returns the
   * shipped bytes set free (now or when the segment's tail is stored).
   */
  reclaim(): number {
    if (this.checkpoint.segment !== this.writeSegment || this.checkpoint.offset === 0) return 0;
    const shipped = this.checkpoint.offset;
    const everythingStored = this.inFlight.length === 0 && shipped === this.writeOffset;
    this.rotate(everythingStored);
    if (everythingStored) {
      this.checkpoint = { segment: this.writeSegment, offset: 0 };
      this.read = { ...this.checkpoint };
      this.checkpointUnsaved = true;
      this.saveCheckpoint();
      this.retireEmptyPrefix();
    }
    return shipped;
  }

  close(): void {
    this.saveCheckpoint();
    clearInterval(this.syncTimer);
    if (this.writeFd >= 0) closeSync(this.writeFd);
    this.writeFd = -1;
    this.lock.release();
  }

  private retireEmptyPrefix(): void {
    for (const n of [...this.segmentSizes.keys()]) {
      if (n < this.checkpoint.segment) {
        this.segmentSizes.delete(n);
        unlinkSync(join(this.options.dir, segmentName(n)));
      }
    }
  }

  /** `shipped`: everything in the segment is stored, so it is closed at once (its space is freed on deletion) instead of synced. */
  private rotate(shipped = false): void {
    const fd = this.writeFd;
    const segment = this.writeSegment;
    const size = this.writeOffset;
    // Opened first: if that fails (a full disk), nothing has changed and the append is retried.
    this.openWriteSegment(segment + 1);
    this.segmentSizes.set(segment, size);
    if (shipped) closeSync(fd);
    else {
      fdatasync(fd, () => undefined);
      // Keep the descriptor open until the pending fdatasync has run.
      setTimeout(() => closeSync(fd), 5000).unref();
    }
  }

  private openWriteSegment(n: number): void {
    this.writeFd = openSync(join(this.options.dir, segmentName(n)), 'wx+');
    this.writeSegment = n;
    this.writeOffset = 0;
  }

  private syncToDisk(): void {
    if (!this.appendedSinceSync || this.writeFd < 0) return;
    this.appendedSinceSync = false;
    fdatasync(this.writeFd, () => undefined);
  }

  private listSegments(): number[] {
    return readdirSync(this.options.dir)
      .filter((f) => f.endsWith(SEGMENT_SUFFIX))
      .map((f) => Number(f.slice(0, -SEGMENT_SUFFIX.length)))
      .filter((n) => Number.isInteger(n))
      .sort((a, b) => a - b);
  }

  private loadCheckpoint(): JournalPosition {
    if (!existsSync(this.checkpointPath)) return { segment: 0, offset: 0 };
    const parsed = JSON.parse(readFileSync(this.checkpointPath, 'utf8')) as JournalPosition;
    if (!Number.isInteger(parsed.segment) || !Number.isInteger(parsed.offset))
      throw new Error(`corrupt journal checkpoint ${this.checkpointPath}`);
    return parsed;
  }
}

function lockJournal(dir: string): ProcessLock {
  try {
    return acquireProcessLock(join(dir, 'LOCK'));
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    throw new Error(
      `journal ${dir} is in use by process ${error.pid}; give each ingest worker its own INGEST_WORKER_ID`,
    );
  }
}
