// The gateway's store-and-forward outbox: readings go to disk the moment they are read, and leave
// only when they are safe (ingest confirmed it stored them, or the broker's PUBACK where ingest
// cannot confirm: src/publisher.ts), oldest first.
//
// On disk (an SD card: few, small, append-only writes): numbered segment files of records, each
// record `u32 length | u32 CRC-32 | JSON [{serial, reading}, ...]` (one poll's readings, one write
// and one fdatasync), and `cursor.json`, the first record not yet acknowledged (replaced by rename).
// A record torn by a power loss or kill -9 fails its length or checksum: the tail from there is cut
// off on open (nothing after it was ever complete); a damaged record inside a segment is skipped and
// counted. When the outbox would pass its byte budget, the oldest segment is dropped, acknowledged
// or not, and the readings lost are counted in `dropped.json` and reported: never silently.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { Reading } from '../../lib/telemetry/contract';
import type { Untimed } from './time';

export interface OutboxEntry {
  serial: string;
  reading: Reading;
  /** Read before the gateway knew the time: `reading.ts` is the untrusted clock's, stamped at flush (time.ts). */
  untimed?: Untimed;
}
export interface Position {
  segment: number;
  offset: number;
}
export interface OutboxOptions {
  dir: string;
  /** The budget: segments together never exceed it (the oldest is dropped first). */
  maxBytes: number;
  segmentBytes: number;
  onWarning?: (message: string) => void;
}
export interface OutboxStats {
  bytes: number;
  segments: number;
  pendingReadings: number;
  droppedReadings: number;
  corruptRecords: number;
}

const HEADER = 8;
const SUFFIX = '.seg';
const segmentName = (n: number) => `${String(n).padStart(12, '0')}${SUFFIX}`;
const before = (a: Position, b: Position) => a.segment < b.segment || (a.segment === b.segment && a.offset < b.offset);

/** Valid records of a segment from `offset`; `end` is where the valid data stops. */
function scan(
  data: Buffer,
  offset: number,
): { records: { at: number; end: number; entries: OutboxEntry[] }[]; end: number; corrupt: number } {
  const records: { at: number; end: number; entries: OutboxEntry[] }[] = [];
  let at = offset;
  let corrupt = 0;
  while (at + HEADER <= data.length) {
    const length = data.readUInt32BE(at);
    const end = at + HEADER + length;
    // A length past the data is a torn write: nothing after it was ever completed.
    if (length === 0 || end > data.length) break;
    const payload = data.subarray(at + HEADER, end);
    if (crc32(payload) !== data.readUInt32BE(at + 4)) {
      // A record whose bytes changed after they were written (a worn SD card): skip it, count it.
      corrupt++;
      at = end;
      continue;
    }
    try {
      records.push({ at, end, entries: JSON.parse(payload.toString('utf8')) as OutboxEntry[] });
    } catch {
      corrupt++;
    }
    at = end;
  }
  return { records, end: at, corrupt };
}

export class Outbox {
  private fd = -1;
  private writeSegment = 0;
  private writeOffset = 0;
  private readonly sizes = new Map<number, number>();
  private readonly counts = new Map<number, number>();
  private cursor: Position;
  private dropped: number;
  private corrupt = 0;

  private constructor(private readonly options: OutboxOptions) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const cursorFile = join(options.dir, 'cursor.json');
    this.cursor = existsSync(cursorFile)
      ? (JSON.parse(readFileSync(cursorFile, 'utf8')) as Position)
      : { segment: 0, offset: 0 };
    const droppedFile = join(options.dir, 'dropped.json');
    this.dropped = existsSync(droppedFile)
      ? (JSON.parse(readFileSync(droppedFile, 'utf8')) as { readings: number }).readings
      : 0;
  }

  static open(options: OutboxOptions): Outbox {
    if (options.segmentBytes * 2 > options.maxBytes)
      throw new Error(
        `outbox: the budget (${options.maxBytes} bytes) must hold at least two segments of ${options.segmentBytes}`,
      );
    const outbox = new Outbox(options);
    outbox.recover();
    return outbox;
  }

  private segmentPath(n: number) {
    return join(this.options.dir, segmentName(n));
  }

  private recover(): void {
    const segments = readdirSync(this.options.dir)
      .filter((f) => f.endsWith(SUFFIX))
      .map((f) => Number(f.slice(0, -SUFFIX.length)))
      .sort((a, b) => a - b);
    for (const n of segments) {
      const path = this.segmentPath(n);
      const data = readFileSync(path);
      const from = n === this.cursor.segment ? this.cursor.offset : 0;
      const { records, end, corrupt } = scan(data, 0);
      this.corrupt += corrupt;
      if (end < data.length) {
        // Cut the torn tail so the next append starts on a record boundary.
        const fd = openSync(path, 'r+');
        ftruncateSync(fd, end);
        fdatasyncSync(fd);
        closeSync(fd);
        this.options.onWarning?.(
          `outbox: cut ${data.length - end} bytes of an incomplete record at the end of ${segmentName(n)}`,
        );
      }
      if (n < this.cursor.segment) {
        unlinkSync(path); // fully acknowledged; its deletion was interrupted
        continue;
      }
      this.sizes.set(n, end);
      this.counts.set(
        n,
        records.filter((r) => r.at >= from).reduce((k, r) => k + r.entries.length, 0),
      );
    }
    const last = segments.filter((n) => this.sizes.has(n)).at(-1);
    this.writeSegment = last ?? Math.max(this.cursor.segment, 1);
    if (this.cursor.segment === 0)
      this.cursor = { segment: segments.find((n) => this.sizes.has(n)) ?? this.writeSegment, offset: 0 };
    this.openWriter();
  }

  private openWriter(): void {
    this.fd = openSync(this.segmentPath(this.writeSegment), 'a', 0o600);
    this.writeOffset = fstatSync(this.fd).size;
    this.sizes.set(this.writeSegment, this.writeOffset);
    if (!this.counts.has(this.writeSegment)) this.counts.set(this.writeSegment, 0);
  }

  /** Appends one poll's readings durably (write + fdatasync) before returning. */
  append(entries: OutboxEntry[]): void {
    if (entries.length === 0) return;
    const payload = Buffer.from(JSON.stringify(entries));
    const record = Buffer.alloc(HEADER + payload.length);
    record.writeUInt32BE(payload.length, 0);
    record.writeUInt32BE(crc32(payload), 4);
    payload.copy(record, HEADER);
    if (record.length > this.options.segmentBytes)
      throw new Error(`outbox: one record of ${record.length} bytes exceeds a segment`);
    if (this.writeOffset + record.length > this.options.segmentBytes) this.roll();
    this.makeRoom(record.length);
    writeSync(this.fd, record);
    fdatasyncSync(this.fd);
    this.writeOffset += record.length;
    this.sizes.set(this.writeSegment, this.writeOffset);
    this.counts.set(this.writeSegment, (this.counts.get(this.writeSegment) ?? 0) + entries.length);
  }

  private roll(): void {
    closeSync(this.fd);
    this.writeSegment += 1;
    this.openWriter();
  }

  private get bytes(): number {
    let total = 0;
    for (const size of this.sizes.values()) total += size;
    return total;
  }

  /** Drops the oldest segments until `incoming` more bytes fit the budget; counts what was lost. */
  private makeRoom(incoming: number): void {
    while (this.bytes + incoming > this.options.maxBytes) {
      const oldest = Math.min(...this.sizes.keys());
      if (oldest === this.writeSegment) break;
      const lost = this.counts.get(oldest) ?? 0;
      unlinkSync(this.segmentPath(oldest));
      this.sizes.delete(oldest);
      this.counts.delete(oldest);
      if (lost > 0) {
        this.dropped += lost;
        writeFileSync(join(this.options.dir, 'dropped.json'), JSON.stringify({ readings: this.dropped }));
        this.options.onWarning?.(
          `outbox full (${this.options.maxBytes} bytes): dropped the oldest ${lost} unsent readings (${this.dropped} in all)`,
        );
      }
      if (this.cursor.segment <= oldest) this.setCursor({ segment: Math.min(...this.sizes.keys()), offset: 0 });
    }
  }

  /**
   * The oldest unacknowledged readings from `from` (default: the first unacknowledged), up to `max`
   * (whole records), and the position after them.
   */
  peek(max: number, from?: Position): { entries: OutboxEntry[]; to: Position } | null {
    const entries: OutboxEntry[] = [];
    let to: Position | null = null;
    const start = from && before(this.cursor, from) ? from : this.cursor;
    const segments = [...this.sizes.keys()].filter((n) => n >= start.segment).sort((a, b) => a - b);
    for (const n of segments) {
      const data = readFileSync(this.segmentPath(n)).subarray(0, this.sizes.get(n));
      const { records } = scan(data, n === start.segment ? start.offset : 0);
      for (const record of records) {
        if (entries.length > 0 && entries.length + record.entries.length > max) return { entries, to: to! };
        entries.push(...record.entries);
        to = { segment: n, offset: record.end };
      }
      if (entries.length >= max) break;
    }
    return to ? { entries, to } : null;
  }

  /** Everything before `to` was acknowledged: advance the cursor, delete finished segments. */
  ack(to: Position, readings: number): void {
    if (!before(this.cursor, to)) return;
    this.setCursor(to);
    for (const n of [...this.sizes.keys()])
      if (n < to.segment) {
        unlinkSync(this.segmentPath(n));
        this.sizes.delete(n);
        this.counts.delete(n);
      }
    let left = readings;
    for (const n of [...this.counts.keys()].sort((a, b) => a - b)) {
      const take = Math.min(left, this.counts.get(n) ?? 0);
      this.counts.set(n, (this.counts.get(n) ?? 0) - take);
      left -= take;
    }
  }

  private setCursor(position: Position): void {
    this.cursor = position;
    const file = join(this.options.dir, 'cursor.json');
    const fd = openSync(`${file}.tmp`, 'w', 0o600);
    writeSync(fd, JSON.stringify(position));
    fdatasyncSync(fd);
    closeSync(fd);
    renameSync(`${file}.tmp`, file);
  }

  stats(): OutboxStats {
    let pending = 0;
    for (const count of this.counts.values()) pending += count;
    return {
      bytes: this.bytes,
      segments: this.sizes.size,
      pendingReadings: pending,
      droppedReadings: this.dropped,
      corruptRecords: this.corrupt,
    };
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
