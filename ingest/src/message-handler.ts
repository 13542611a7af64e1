// One telemetry or status message from the broker into the journal: turned away before parsing when
// its device is over its fair share, validated against the contract and the registry, its late
// readings judged against the stored history, then recorded. Synchronous on the hot path; a promise
// only when it must wait (a registry reload, the stored history, the disk).
import type { IPublishPacket } from 'mqtt';
import type { Logger } from '../../lib/logger';
import { BROKER_MAX_PACKET_BYTES } from '../../lib/telemetry/contract';
import type { FairShareLimiter } from '../../lib/telemetry/fair-share';
import type { CutPacket } from './broker-log';
import type { HistoryJudge } from './history-judge';
import type { IngestMetrics } from './metrics';
import {
  type CounterCheck,
  type InverterLookup,
  processMessage,
  type ProcessedMessage,
  type ValidationLimits,
} from './process-message';
import type { Recorder } from './recorder';

export interface HandlerParts {
  limits: ValidationLimits;
  registry: { lookup: InverterLookup; pendingReload: Promise<unknown> | null };
  checkCounter: CounterCheck;
  fairShare: FairShareLimiter;
  history: HistoryJudge;
  recorder: Recorder;
  metrics: IngestMetrics;
  log: Logger;
}

export class MessageHandler {
  private readonly received: { telemetry: { inc(): void }; status: { inc(): void } };

  constructor(private readonly parts: HandlerParts) {
    this.received = {
      telemetry: parts.metrics.messagesReceived.labels('telemetry'),
      status: parts.metrics.messagesReceived.labels('status'),
    };
  }

  /**
   * Validates and journals one message. `journaled` is called once it is in the journal (not for a
   * message turned away as over its fair share: that is "not now", and the gateway sends it again).
   */
  handle(packet: IPublishPacket, journaled: () => void): void | Promise<void> {
    const { registry, recorder, history } = this.parts;
    const receivedAtMs = Date.now();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    (packet.topic.endsWith('/status') ? this.received.status : this.received.telemetry).inc();
    // A registered device over its fair share is turned away before anything is parsed.
    const serial = packet.topic.split('/', 3)[2];
    const overShare =
      serial !== undefined && registry.lookup(serial)
        ? this.parts.fairShare.admit(serial, payload.length, receivedAtMs)
        : null;
    if (overShare) {
      this.parts.metrics.rateLimited.labels(serial!).inc();
      const limited = rejected('rate_limited', overShare, packet.topic, serial!, payload);
      try {
        recorder.record(limited, receivedAtMs, payload);
        return;
      } catch {
        return recorder.recordOrRetry(limited, receivedAtMs, payload);
      }
    }
    const result = this.validate(packet, payload, receivedAtMs);
    // An inverter registered a moment ago: wait for the registry reload already under way.
    if (result.rejections[0]?.reason === 'unknown_device' && registry.pendingReload) {
      return registry.pendingReload
        .catch(() => undefined)
        .then(() => history.judge(this.validate(packet, payload, receivedAtMs), packet.topic))
        .then((judged) => recorder.recordOrRetry(judged, receivedAtMs, payload))
        .then(journaled);
    }
    if (result.deferred?.length)
      return history
        .judge(result, packet.topic)
        .then((judged) => recorder.recordOrRetry(judged, receivedAtMs, payload))
        .then(journaled);
    if (recorder.diskLow) return recorder.recordOrRetry(result, receivedAtMs, payload).then(journaled);
    try {
      recorder.record(result, receivedAtMs, payload);
    } catch {
      return recorder.recordOrRetry(result, receivedAtMs, payload).then(journaled);
    }
    journaled();
  }

  /**
   * A packet the broker cut for its size never arrives: its record comes from the broker's log.
   * Every worker reads that log (Mosquitto 2.0.11 delivers no $SYS topic to a shared subscription),
   * so the record is the broker's: the same tags and time from every worker, one point in InfluxDB.
   */
  recordPacketCut(cut: CutPacket, timestampNs: string): Promise<void> {
    const account = cut.account ?? '';
    this.parts.metrics.packetsCut.labels(account).inc();
    this.parts.log.warn(
      { account: cut.account, clientId: cut.clientId },
      'the broker cut a packet over its size limit and closed the connection',
    );
    const detail =
      `the broker cut a packet over its limit of ${BROKER_MAX_PACKET_BYTES} bytes from client id '` +
      `${cut.clientId}' (account ${cut.account === null ? 'unknown' : `'${cut.account}'`}) and closed its ` +
      `connection: nothing in that packet arrived`;
    const result: ProcessedMessage = {
      lines: [],
      readings: 0,
      rejections: [{ reason: 'packet_too_large', detail, topic: '', serial: account, payload: '', payloadBytes: 0 }],
    };
    return this.parts.recorder.recordOrRetry(result, Date.now(), Buffer.alloc(0), { worker: 'broker', timestampNs });
  }

  private validate(packet: IPublishPacket, payload: Buffer, receivedAtMs: number): ProcessedMessage {
    const { limits, registry, checkCounter } = this.parts;
    try {
      return processMessage(packet.topic, payload, receivedAtMs, registry.lookup, limits, checkCounter);
    } catch (error) {
      this.parts.log.error(
        { topic: packet.topic, error: (error as Error).message },
        'unexpected error while validating a message',
      );
      return rejected('processing_error', (error as Error).message, packet.topic, '', payload);
    }
  }
}

/** A message recorded only as rejected, for one reason. */
function rejected(
  reason: 'rate_limited' | 'processing_error',
  detail: string,
  topic: string,
  serial: string,
  payload: Buffer,
): ProcessedMessage {
  return {
    lines: [],
    readings: 0,
    rejections: [{ reason, detail, topic, serial, payload, payloadBytes: payload.length }],
  };
}
