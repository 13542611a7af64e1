// One ingest worker: MQTT (persistent session; a shared subscription when several workers split the
// load) -> validate -> journal -> ack, and journal -> InfluxDB in batches. Workers share nothing.
// This file wires the parts: the message handler (validation, history, the journal's recorder), the
// acknowledgement gate the drainer releases, the subscription, and what the worker says of itself.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { IngestConfig } from './config';
import { InfluxClient } from '../../lib/influx/client';
import type { Logger } from '../../lib/logger';
import { parseDurationMs } from '../../lib/influx/duration';
import { DiskSpace } from './disk-space';
import { Drainer } from './drainer';
import { Journal } from './journal';
import { createIngestMetrics } from './metrics';
import { FairShareLimiter } from '../../lib/telemetry/fair-share';
import { CounterGuard } from './counter-guard';
import type { CounterCheck } from './process-message';
import { ActiveInverterCache } from './active-inverter-cache';
import { SubscriptionKeeper } from './subscription';
import { type ConfirmationRequest, confirmationRequest, StoredConfirmations } from './confirmations';
import { BROKER_LOG_TOPIC, BrokerLogReader, cutTimestampNs, overShareAtBroker } from './broker-log';
import { INGEST_SUBSCRIPTION } from '../../lib/telemetry/contract';
import { endClient } from '../../lib/mqtt/end-client';
import { waitBeforeRetry } from './retry-delay';
import { AckGate } from './ack-gate';
import { HealthServer, WorkerHealth } from './health';
import { HistoryJudge } from './history-judge';
import { IdleForgiveness } from './idle-forgiveness';
import { MessageHandler } from './message-handler';
import { ReadingDelay } from './reading-delay';
import { Recorder } from './recorder';

export interface IngestWorker {
  http: FastifyInstance;
  /** Stops taking messages, ships what is journaled (up to drainTimeoutMs), releases everything. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

/** How long a stop waits for the broker to acknowledge what is outstanding (confirmations, a SUBSCRIBE). */
const MQTT_END_GRACE_MS = 5000;

export async function startIngestWorker(config: IngestConfig, log: Logger): Promise<IngestWorker> {
  const metrics = createIngestMetrics();
  const health = new HealthServer(config.workerId, metrics);
  await health.listen(config.httpPort);
  const influx = new InfluxClient(config.influx);
  const workerDir = join(config.dataDir, `worker-${config.workerId}`);
  // When this worker last stored anything: the broker has queued for it since (see IdleForgiveness).
  const lastStoredMs = lastModifiedMs(join(workerDir, 'journal', 'checkpoint.json'));
  const journal = new Journal({
    dir: join(workerDir, 'journal'),
    segmentBytes: config.journalSegmentBytes,
    fsyncIntervalMs: 1000,
    onWarning: (m) => log.warn(m),
  });
  if (journal.backlogBytes > 0)
    log.info(
      { backlogBytes: journal.backlogBytes },
      'recovered journaled data from the previous run; shipping it to InfluxDB',
    );

  // Acknowledgements are held (mqtt.js then reads nothing more and the broker queues) while
  // - the journal backlog is past its limit (InfluxDB behind or away): the gate, until the drainer
  //   has shipped it back under 90 %;
  // - the disk is short (free space under INGEST_DISK_RESERVE_BYTES, or a journal write failed:
  //   ENOSPC, EIO...): the recorder, until journaling works again. Nothing is dropped, nothing exits.
  let lastHoldLoggedMs = 0;
  const gate = new AckGate(
    config.journalMaxBacklogBytes,
    () => journal.backlogBytes,
    (holding) => {
      metrics.acksHeld.set(holding ? 1 : 0);
      // Under sustained pressure this flips several times a second; say it once a minute.
      if (!holding || Date.now() - lastHoldLoggedMs <= 60_000) return;
      lastHoldLoggedMs = Date.now();
      log.warn(
        { backlogBytes: journal.backlogBytes },
        'journal backlog at its limit; holding acknowledgements until InfluxDB catches up',
      );
    },
  );
  const drainer = new Drainer(
    journal,
    influx,
    {
      batchMaxBytes: config.batchMaxBytes,
      flushIntervalMs: config.flushIntervalMs,
      writesInFlight: config.writesInFlight,
      deadLetterDir: join(workerDir, 'dead-letter'),
    },
    metrics,
    log,
    gate,
    () => {
      if (recorder.diskProblem !== null || disk.low) journal.reclaim();
    },
  );
  const disk = new DiskSpace(workerDir, config.diskReserveBytes, 1000, (low) => {
    if (!low) return;
    log.warn(
      { freeBytes: disk.freeBytes, reserveBytes: config.diskReserveBytes },
      'free disk space under the reserve (INGEST_DISK_RESERVE_BYTES); holding acknowledgements, reclaiming shipped journal space',
    );
    journal.reclaim();
    drainer.pump(true);
  });

  const counters = new CounterGuard({ lifetimeYears: config.counterLifetimeYears });
  const registry = new ActiveInverterCache(config.databaseUrl, config.registryRefreshMs, log, (n) => {
    metrics.registryDevices.set(n);
    counters.retain((serial) => registry.lookup(serial) !== undefined);
  });
  const checkCounter: CounterCheck = {
    needsHistory: (serial, tMs) => counters.needsHistory(serial, tMs),
    admit: (inverter, serial, tMs, wh) => counters.admit(serial, inverter.ratedAcW, inverter.replacedAtMs, tMs, wh),
    seed: (serial, tMs, wh) => counters.seed(serial, tMs, wh),
  };
  const history = new HistoryJudge(new InfluxClient(config.influxReader), journal, counters, checkCounter, log);
  const delay = new ReadingDelay(Date.now(), metrics.readingDelay);
  const recorder = new Recorder({
    workerId: config.workerId,
    diskReserveBytes: config.diskReserveBytes,
    journal,
    disk,
    isRegistered: (serial) => registry.lookup(serial) !== undefined,
    recent: history.recent,
    delay,
    metrics,
    log,
  });
  drainer.start(); // the journal ships meanwhile: it needs InfluxDB, not the registry
  for (let attempt = 0; ; attempt++) {
    try {
      await registry.start();
      break;
    } catch (error) {
      health.startingProblem =
        `waiting for the device registry: PostgreSQL unavailable (${(error as Error).message}); ` +
        `nothing is taken from the broker until it loads`;
      await waitBeforeRetry(attempt);
    }
  }

  const fairShare = new FairShareLimiter(config.fairShare);
  const idle = new IdleForgiveness(fairShare, log, Date.now());
  if (lastStoredMs !== null) idle.tookNothingFor(Date.now() - lastStoredMs);
  let ticks = 0;
  const everySecond = setInterval(() => {
    const nowMs = Date.now();
    idle.tick(nowMs);
    if (++ticks % 60 === 0) {
      recorder.prune(nowMs);
      fairShare.prune(nowMs);
    }
  }, 1000);
  const limits = {
    maxPayloadBytes: config.maxPayloadBytes,
    maxReadingsPerMessage: config.maxReadingsPerMessage,
    maxClockAheadMs: config.maxClockAheadMs,
    powerTolerancePercent: config.powerTolerancePercent,
    retentionMs: parseDurationMs(config.influx.rawRetention),
  };
  const handler = new MessageHandler({ limits, registry, checkCounter, fairShare, history, recorder, metrics, log });

  const client: MqttClient = mqtt.connect(config.mqtt.url, {
    clientId: `ingest-${config.workerId}`,
    username: config.mqtt.username,
    password: config.mqtt.password,
    protocolVersion: 5,
    clean: false,
    properties: { sessionExpiryInterval: 7 * 24 * 3600, receiveMaximum: 1000 },
    // Back quickly after a broker restart: until ingest has subscribed again, the broker drops what
    // devices publish (Mosquitto does not restore a shared subscription; see subscription.ts).
    reconnectPeriod: 250,
    connectTimeout: 10_000,
    keepalive: config.mqttKeepaliveS,
    // The session is not trusted to hold the subscription (see subscription.ts): every connection subscribes.
    resubscribe: false,
  });
  const subscription = new SubscriptionKeeper(
    client,
    {
      topic: config.shareGroup === null ? INGEST_SUBSCRIPTION : `$share/${config.shareGroup}/${INGEST_SUBSCRIPTION}`,
      silenceMs: config.silenceMs,
      minUnseenPublishes: config.silenceMinBrokerPublishes,
    },
    log,
    () => status.holdReason() !== null,
  );
  const status = new WorkerHealth({
    config,
    client,
    subscription,
    recorder,
    gate,
    history,
    drainer,
    journal,
    delay,
    disk,
    registry,
    metrics,
  });
  health.serve(status);
  const confirmations = new StoredConfirmations(client, (n) => metrics.messagesConfirmed.inc(n));
  // mqtt.js reads the broker's packets in order, each message only once the one before it is
  // acknowledged, and takes only a PINGRESP as the broker being alive: 1.5 keepalives after its last
  // one it closes the connection. Behind a backlog the PINGRESP waits for every message before it
  // (Mosquitto 2.0.11 sends a subscriber its whole queue at once, past its Receive Maximum), so
  // mqtt.js closed a working connection 90 s after it opened, losing the acknowledgements on their
  // way: each came back as a duplicate to judge. A message acknowledged is the broker answering (and
  // the PUBACK tells the broker ingest is alive): it counts as the ping's answer, once a second.
  let keptAliveAtMs = 0;
  const keepAlive = (packet: IPublishPacket) => {
    const nowMs = Date.now();
    if (packet.qos === 0 || nowMs - keptAliveAtMs < 1000) return; // a QoS 0 message sends the broker nothing
    keptAliveAtMs = nowMs;
    client.reschedulePing(true);
  };
  // While an acknowledgement is held (holdReason: a short disk, the backlog at its limit, InfluxDB's
  // history unreadable), mqtt.js reads nothing, the PINGRESP included, and would close the connection
  // at its keepalive timeout, 1.5 keepalives after the last acknowledgement: the broker then sends
  // everything held again, each hold a drop every 90 s. The worker keeps the connection itself: at
  // the timeout it sends another PINGREQ (the broker drops a client silent for 1.5 keepalives; mqtt.js
  // sent one at the keepalive) and starts the keepalive over instead of closing. Given up during a
  // hold: mqtt.js noticing a dead link by the missing answer; a PINGREQ written to a peer gone still
  // fails (reset, or TCP's retransmission timeout) and closes the connection. When the hold ends the
  // PINGRESPs queued are read and mqtt.js's keepalive goes on as before.
  const timeOut = client.onKeepaliveTimeout.bind(client);
  client.onKeepaliveTimeout = () => {
    if (status.holdReason() === null) return timeOut();
    client.sendPing();
    client.reschedulePing(true);
  };
  const noConfirmation = () => {};
  const brokerLog = new BrokerLogReader();
  // mqtt.js sends PUBACK when this callback is called and only then delivers the next message.
  client.handleMessage = (packet, acknowledge) => {
    if (subscription.isBrokerCounter(packet.topic, packet.payload as Buffer)) return acknowledge();
    if (packet.topic === BROKER_LOG_TOPIC) {
      const line = String(packet.payload);
      const over = overShareAtBroker(line);
      if (over) {
        metrics.brokerRefused.labels(over.serial).inc(over.messages);
        metrics.brokerRefusedBytes.labels(over.serial).inc(over.bytes);
        return acknowledge();
      }
      const cut = brokerLog.read(line);
      if (!cut) return acknowledge();
      return void handler.recordPacketCut(cut, cutTimestampNs(cut, Date.now())).then(() => acknowledge());
    }
    const arrivedAtMs = Date.now();
    idle.noticeStall(arrivedAtMs);
    subscription.noteMessage(arrivedAtMs);
    const done = () => {
      idle.tookNothingFor(Date.now() - arrivedAtMs); // the acknowledgement was held: the broker queued meanwhile
      acknowledge();
      keepAlive(packet);
    };
    const finish = () => {
      drainer.pump();
      gate.pass(done);
    };
    const request: ConfirmationRequest | null = confirmationRequest(packet);
    const pending = handler.handle(packet, request ? () => confirmations.note(request) : noConfirmation);
    if (pending) void pending.then(finish);
    else finish();
  };
  client.on('error', (error) => log.error({ error: error.message }, 'MQTT error'));
  let offlineSinceMs: number | null = null;
  client.on('offline', () => {
    offlineSinceMs ??= Date.now();
    log.warn('broker connection lost; reconnecting');
  });
  let connectedBefore = false;
  client.on('connect', () => {
    if (connectedBefore) metrics.brokerReconnects.inc(); // each one redelivers what was not acknowledged
    connectedBefore = true;
    if (offlineSinceMs !== null) idle.tookNothingFor(Date.now() - offlineSinceMs);
    offlineSinceMs = null;
  });

  return {
    http: health.http,
    async stop(drainTimeoutMs = 5000) {
      confirmations.stop(); // while still connected
      // Gracefully while the broker answers; never waiting for answers a lost connection will not bring.
      await endClient(client, MQTT_END_GRACE_MS);
      const drained = await drainer.drained(drainTimeoutMs);
      if (!drained)
        log.warn(
          { backlogBytes: journal.backlogBytes },
          'stopping with journaled data not yet in InfluxDB; it is shipped on the next start',
        );
      subscription.stop();
      disk.stop();
      drainer.stop();
      clearInterval(everySecond);
      await history.stop();
      journal.close();
      await registry.close();
      await health.http.close();
    },
  };
}

/** A file's modification time, or null if it does not exist. */
function lastModifiedMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}
