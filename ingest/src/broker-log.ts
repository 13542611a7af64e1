// Packets the broker cut. Mosquitto closes the connection of a client whose packet is larger than
// its max_packet_size (BROKER_MAX_PACKET_BYTES) while reading it: nothing reaches ingest, and only
// the broker's log says so ("Client <id> disconnected due to oversize packet.", with
// connection_messages on). Setup has the broker publish its log to $SYS/broker/log/N (log_dest
// topic); ingest follows it, learns each client id's account from the connect lines, and records
// a cut against that account like any other rejection. Mosquitto 2.0.11 delivers no $SYS topic to
// a shared subscription (checked), so every worker reads every line: the record of a cut has the
// broker's time for it, the same in every worker (cutTimestampNs).
// The same log carries the broker's fair-share plugin's reports (ops/broker/fair-share-plugin.c):
// every 10 s, each serial whose messages it refused, with the counts; ingest exports them per serial.

/** Mosquitto's notice-level log lines, as it publishes them (`log_dest topic`). */
export const BROKER_LOG_TOPIC = '$SYS/broker/log/N';

export interface CutPacket {
  /** The broker account (username) the client signed in with: a device's serial, a gateway's `gw:…`. */
  account: string | null;
  clientId: string;
  /** When the broker cut it (its log's epoch seconds), if the line says. */
  atSeconds: number | null;
}

/**
 * The record's time: the broker's second for the cut and, below it, a hash of the client id (two
 * clients cut in one second stay two records; every worker writes the same point).
 */
export function cutTimestampNs(cut: CutPacket, nowMs: number): string {
  const seconds = cut.atSeconds ?? Math.floor(nowMs / 1000);
  let hash = 2_166_136_261;
  for (const byte of Buffer.from(cut.clientId)) hash = Math.imul(hash ^ byte, 16_777_619) >>> 0;
  return `${seconds}${String(hash % 1_000_000_000).padStart(9, '0')}`;
}

/** A device the broker slowed: messages (and their bytes) refused since its previous report. */
export interface OverShareAtBroker {
  serial: string;
  messages: number;
  bytes: number;
}

// The plugin's wording (on_tick in ops/broker/fair-share-plugin.c), after the broker's time stamp.
const OVER_SHARE =
  /^(?:\d+: )?fair share: device (\S{1,64}) over its share at the broker \(.*\): (\d+) message\(s\) of (\d+) bytes refused /;

/** The plugin's report in a log line, if the line is one. */
export function overShareAtBroker(line: string): OverShareAtBroker | null {
  const m = OVER_SHARE.exec(line);
  return m ? { serial: m[1]!, messages: Number(m[2]), bytes: Number(m[3]) } : null;
}

// Mosquitto 2.0's wording (src/handle_connect.c, src/loop.c), after its time stamp (epoch seconds).
const CONNECTED = /^(?:\d+: )?New client connected from \S+ as (.+) \(p\d+, c\d+, k\d+(?:, u'(.*)')?\)\.$/;
const CUT = /^(?:(\d+): )?Client (.+) disconnected due to oversize packet\.$/;
const GONE = /^(?:\d+: )?Client (.+?) (?:closed its connection|disconnected|has exceeded timeout|been disconnected)/;
/** Clients remembered at once (a connect whose disconnect was never seen, e.g. a line missed). */
const MAX_CLIENTS = 200_000;

export class BrokerLogReader {
  /** Client id -> account, from the connect line, while the client is connected. */
  private readonly accounts = new Map<string, string | null>();

  /** Reads one log line; returns the cut it reports, if it reports one. */
  read(line: string): CutPacket | null {
    const text = line.trimEnd();
    const connected = CONNECTED.exec(text);
    if (connected) {
      if (this.accounts.size >= MAX_CLIENTS) this.accounts.delete(this.accounts.keys().next().value!);
      this.accounts.delete(connected[1]!); // re-inserted last: the oldest are the first forgotten
      this.accounts.set(connected[1]!, connected[2] ?? null);
      return null;
    }
    const cut = CUT.exec(text);
    if (cut) {
      const clientId = cut[2]!;
      const account = this.accounts.get(clientId) ?? null;
      this.accounts.delete(clientId);
      return { account, clientId, atSeconds: cut[1] === undefined ? null : Number(cut[1]) };
    }
    const gone = GONE.exec(text);
    if (gone) this.accounts.delete(gone[1]!);
    return null;
  }
}
