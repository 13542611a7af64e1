// One ingest worker: MQTT (persistent session; a shared subscription when several workers split the
// load) -> validate -> journal -> ack, and journal -> InfluxDB in batches. Workers share nothing.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { IngestConfig } from './config';
import { InfluxClient } from '../../lib/influx/client';
import type { Logger } from '../../lib/logger';
import { buildInfo } from '../../lib/version';
import { parseDurationMs } from '../../lib/influx/duration';
import { DiskSpace } from './disk-space';
import { Drainer } from './drainer';
import { Journal } from './journal';
import { createIngestMetrics } from './metrics';
import { FairShareLimiter } from '../../lib/telemetry/fair-share';
import { CounterGuard } from './counter-guard';
import { KnownTimeline, newestStored, RecentReadings, storedAround } from './history';
import { RejectionBudget, UNREGISTERED } from './rejection-budget';
import {
  asOneRecord,
  type CounterCheck,
  encodeRejection,
  judgeAgainstHistory,
  processMessage,
  type ProcessedMessage,
  type ValidationLimits,
} from './process-message';
import { ActiveInverterCache } from './active-inverter-cache';
import { SubscriptionKeeper } from './subscription';
import { type ConfirmationRequest, confirmationRequest, StoredConfirmations } from './confirmations';
import { BROKER_LOG_TOPIC, BrokerLogReader, type CutPacket, cutTimestampNs, overShareAtBroker } from './broker-log';
import { BROKER_MAX_PACKET_BYTES, INGEST_SUBSCRIPTION } from '../../lib/telemetry/contract';
import { waitBeforeRetry } from './retry-delay';
import { AckGate } from './ack-gate';

export interface IngestWorker {
  http: FastifyInstance;
  /** Stops taking messages, ships what is journaled (up to drainTimeoutMs), releases everything. */
  stop(drainTimeoutMs?: number): Promise<void>;
}

export async function startIngestWorker(config: IngestConfig, log: Logger): Promise<IngestWorker> {
  const metrics = createIngestMetrics();
  // /healthz and /metrics answer from the start: a worker started while PostgreSQL is away (after a
  // crash, a host booting) waits for its registry, taking nothing from the broker, and says so
  // instead of exiting. Once running, the full answers below replace these.
  let startingProblem = 'starting';
  let answerHealth = (): { code: number; body: Record<string, unknown> } => ({
    code: 503,
    body: { status: 'starting', problems: [startingProblem], worker: config.workerId, ...buildInfo() },
  });
  let observe = (_nowMs: number) => {};
  const http = Fastify({ logger: false });
  http.get('/healthz', async (_request, reply) => {
    const { code, body } = answerHealth();
    return reply.code(code).send(body);
  });
  http.get('/metrics', async (_request, reply) => {
    observe(Date.now());
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  await http.listen({ host: '127.0.0.1', port: config.httpPort });
  const influx = new InfluxClient(config.influx);
  const workerDir = join(config.dataDir, `worker-${config.workerId}`);
  // When this worker last stored anything: the broker has queued for it since (see `tookNothingFor`).
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

  const limits: ValidationLimits = {
    maxPayloadBytes: config.maxPayloadBytes,
    maxReadingsPerMessage: config.maxReadingsPerMessage,
    maxClockAheadMs: config.maxClockAheadMs,
    powerTolerancePercent: config.powerTolerancePercent,
    retentionMs: parseDurationMs(config.influx.rawRetention),
  };

  // Acknowledgements are held (mqtt.js then reads nothing more and the broker queues) while
  // - the journal backlog is past its limit (InfluxDB behind or away): the gate, until the drainer
  //   has shipped it back under 90 %;
  // - the disk is short (free space under INGEST_DISK_RESERVE_BYTES, or a journal write failed:
  //   ENOSPC, EIO...), until journaling works again. Nothing is dropped, nothing exits.
  /** Why journaling waits for the disk (null: it does not). */
  let diskProblem: string | null = null;
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
      if (diskProblem !== null || disk.low) journal.reclaim();
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
  // A device's past is immutable (history.ts): late readings are judged against InfluxDB (read as
  // the reader) plus what this worker journaled and has not shipped yet.
  const influxReader = new InfluxClient(config.influxReader);
  const recent = new RecentReadings();
  const forgetShipped = setInterval(() => {
    const now = Date.now();
    recent.forgetShipped(now - journal.lagMs(now) - 1000);
  }, 1000);
  let historyReadable = true;
  // Each device's newest stored reading: its first reading after this start is judged from it
  // without a query (only readings not newer than it are). Not awaited: until it answers, first
  // readings are judged against their history one by one, which is correct, only slower.
  const seeded = newestStored(influxReader, Date.now() - 31 * 86_400_000).then(
    ({ newest, sinceMs }) => {
      counters.seedAll(newest, sinceMs);
      log.info({ devices: newest.size }, "read each device's newest stored reading");
    },
    (error: Error) =>
      log.warn(
        { error: error.message },
        "cannot read the devices' newest stored readings; each device's first reading is judged against its history",
      ),
  );
  const judgeLate = async (result: ProcessedMessage, topic: string): Promise<ProcessedMessage> => {
    if (!result.deferred?.length || !result.device) return result;
    const { serial } = result.device;
    for (let attempt = 0; ; attempt += 1) {
      try {
        const stored = await storedAround(
          influxReader,
          serial,
          result.deferred.map((d) => d.tMs),
        );
        if (!historyReadable) log.info('InfluxDB answers history reads again');
        historyReadable = true;
        const timeline = new KnownTimeline([...stored, ...recent.of(serial)]);
        return judgeAgainstHistory(result, topic, timeline, checkCounter);
      } catch (error) {
        // A device this worker knows nothing of (started while InfluxDB was away): judged as before
        // the history existed, from what this worker journaled, so an outage stops no one.
        if (counters.knowsNothingOf(serial))
          return judgeAgainstHistory(result, topic, new KnownTimeline(recent.of(serial)), checkCounter);
        // Judging a late reading without the history could let a device rewrite its past: wait for InfluxDB.
        if (historyReadable)
          log.error(
            { error: (error as Error).message, user: influxReader.username },
            'cannot read the stored history to judge late readings (check InfluxDB and INFLUX_READER_USERNAME/PASSWORD); holding the message and retrying',
          );
        historyReadable = false;
        await waitBeforeRetry(attempt);
      }
    }
  };
  drainer.start(); // the journal ships meanwhile: it needs InfluxDB, not the registry
  for (let attempt = 0; ; attempt++) {
    try {
      await registry.start();
      break;
    } catch (error) {
      startingProblem =
        `waiting for the device registry: PostgreSQL unavailable (${(error as Error).message}); ` +
        `nothing is taken from the broker until it loads`;
      await waitBeforeRetry(attempt);
    }
  }

  // Publish-to-stored lag from the readings' own timestamps (live ones: at most 10 minutes old), the
  // largest over the current and the previous 10-second window, plus the journal's lag to InfluxDB.
  const LIVE_MS = 600_000;
  const delayWindow = { startMs: Date.now(), maxMs: 0, previousMaxMs: 0 };
  const noteDelays = (accepted: readonly { tMs: number }[], receivedAtMs: number) => {
    if (receivedAtMs - delayWindow.startMs >= 10_000) {
      delayWindow.previousMaxMs = receivedAtMs - delayWindow.startMs >= 20_000 ? 0 : delayWindow.maxMs;
      delayWindow.startMs = receivedAtMs;
      delayWindow.maxMs = 0;
    }
    for (const { tMs } of accepted) {
      const delayMs = receivedAtMs - tMs;
      if (delayMs < 0 || delayMs > LIVE_MS) continue;
      metrics.readingDelay.observe(delayMs / 1000);
      if (delayMs > delayWindow.maxMs) delayWindow.maxMs = delayMs;
    }
  };
  const readingDelaySeconds = (nowMs: number) =>
    nowMs - delayWindow.startMs >= 20_000 ? 0 : Math.max(delayWindow.maxMs, delayWindow.previousMaxMs) / 1000;
  let rejectionSeq = 0;
  const budget = new RejectionBudget();
  const fairShare = new FairShareLimiter(config.fairShare);
  // While this worker took nothing (down, stalled, disconnected, holding its acknowledgements) the
  // broker queued every device's messages; they arrive together afterwards and are not a flood.
  const tookNothingFor = (ms: number) => {
    if (ms < 2000) return;
    fairShare.forgive(ms / 1000, Date.now());
    log.info({ seconds: Math.round(ms / 1000) }, "devices' fair share widened for the backlog queued meanwhile");
  };
  if (lastStoredMs !== null) tookNothingFor(Date.now() - lastStoredMs);
  // The event loop stalled (SIGSTOP, a long pause): noticed by the next tick or the next message,
  // whichever comes first (after SIGCONT the queued messages may be read before any timer runs).
  let tickedAtMs = Date.now();
  const noticeStall = (nowMs: number) => {
    if (nowMs - tickedAtMs < 3000) return;
    tookNothingFor(nowMs - tickedAtMs - 1000);
    tickedAtMs = nowMs;
  };
  let ticks = 0;
  const pruneBudget = setInterval(() => {
    const nowMs = Date.now();
    noticeStall(nowMs);
    tickedAtMs = nowMs;
    if (++ticks % 60 === 0) {
      budget.prune(nowMs);
      fairShare.prune(nowMs);
    }
  }, 1000);
  // Safe to call again after a failed append: it builds its own lines and counts only on success.
  /** `as`: the record's worker tag and time when they are not this worker's and the arrival's. */
  type RecordedAs = { worker: string; timestampNs: string };
  const record = (result: ProcessedMessage, receivedAtMs: number, payload: Buffer, as?: RecordedAs) => {
    const lines = [...result.lines];
    // One record per message, within the device's budget (no amplification).
    const rejection = asOneRecord(result.rejections, payload);
    const unrecordedBefore = rejection
      ? budget.take(registry.lookup(rejection.serial) ? rejection.serial : UNREGISTERED, receivedAtMs)
      : null;
    if (rejection && unrecordedBefore !== null) {
      // A sub-millisecond sequence keeps two rejections of the same millisecond from overwriting each other.
      rejectionSeq = (rejectionSeq + 1) % 1_000_000;
      lines.push(
        encodeRejection(
          { ...rejection, unrecordedBefore },
          as?.worker ?? config.workerId,
          as?.timestampNs ?? `${receivedAtMs}${String(rejectionSeq).padStart(6, '0')}`,
        ),
      );
    }
    if (lines.length > 0) journal.append(Buffer.from(`${lines.join('\n')}\n`));
    if (rejection && unrecordedBefore === null) metrics.rejectionsUnrecorded.inc();
    if (result.device && result.accepted) {
      recent.add(result.device.serial, result.accepted, Date.now());
      noteDelays(result.accepted, receivedAtMs);
    }
    for (const rejection of result.rejections) metrics.rejected.labels(rejection.reason).inc();
    metrics.readingsAccepted.inc(result.readings);
    if (result.duplicates) metrics.readingsDuplicate.inc(result.duplicates);
  };

  const receivedByKind = {
    telemetry: metrics.messagesReceived.labels('telemetry'),
    status: metrics.messagesReceived.labels('status'),
  };
  const validate = (packet: IPublishPacket, payload: Buffer, receivedAtMs: number): ProcessedMessage => {
    try {
      return processMessage(packet.topic, payload, receivedAtMs, registry.lookup, limits, checkCounter);
    } catch (error) {
      log.error(
        { topic: packet.topic, error: (error as Error).message },
        'unexpected error while validating a message',
      );
      return {
        lines: [],
        readings: 0,
        rejections: [
          {
            reason: 'processing_error',
            detail: (error as Error).message,
            topic: packet.topic,
            serial: '',
            payload,
            payloadBytes: payload.length,
          },
        ],
      };
    }
  };
  // Journaling must succeed before the acknowledgement: while the disk is short or failing, hold it
  // and retry (shipped journal space is reclaimed meanwhile); never drop the message, never exit.
  const journalOrRetry = async (
    result: ProcessedMessage,
    receivedAtMs: number,
    payload: Buffer,
    as?: RecordedAs,
  ): Promise<void> => {
    for (let attempt = 0; ; attempt += 1) {
      if (disk.low) {
        diskProblem ??= `free disk space under the reserve (INGEST_DISK_RESERVE_BYTES = ${config.diskReserveBytes} bytes)`;
        journal.reclaim();
        await waitBeforeRetry(Math.min(attempt, 3));
        disk.poll();
        continue;
      }
      try {
        record(result, receivedAtMs, payload, as);
        if (diskProblem !== null) log.info('journal writes succeed again; acknowledgements resume');
        diskProblem = null;
        return;
      } catch (error) {
        const reason = `journal write failing (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`;
        if (diskProblem !== reason)
          log.error({ error: (error as Error).message }, `${reason}; holding acknowledgements and retrying`);
        diskProblem = reason;
        journal.reclaim();
        await waitBeforeRetry(Math.min(attempt, 4)); // at most 1.6 s between tries: resume soon after space is back
      }
    }
  };

  // A packet the broker cut for its size never arrives: its record comes from the broker's log.
  // Every worker reads that log (Mosquitto 2.0.11 delivers no $SYS topic to a shared subscription),
  // so the record is the broker's: the same tags and time from every worker, one point in InfluxDB.
  const brokerLog = new BrokerLogReader();
  const packetCut = (cut: CutPacket): ProcessedMessage => {
    const account = cut.account ?? '';
    metrics.packetsCut.labels(account).inc();
    log.warn(
      { account: cut.account, clientId: cut.clientId },
      'the broker cut a packet over its size limit and closed the connection',
    );
    return {
      lines: [],
      readings: 0,
      rejections: [
        {
          reason: 'packet_too_large',
          detail:
            `the broker cut a packet over its limit of ${BROKER_MAX_PACKET_BYTES} bytes from client id '` +
            `${cut.clientId}' (account ${cut.account === null ? 'unknown' : `'${cut.account}'`}) and closed its ` +
            `connection: nothing in that packet arrived`,
          topic: '',
          serial: account,
          payload: '',
          payloadBytes: 0,
        },
      ],
    };
  };

  /**
   * Validates and journals one message; synchronous on the hot path, a promise only when it must
   * wait. `journaled` is called once it is in the journal (not for a message turned away as over
   * its fair share: that is "not now", and the gateway sends it again).
   */
  const handle = (packet: IPublishPacket, journaled: () => void): void | Promise<void> => {
    const receivedAtMs = Date.now();
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    (packet.topic.endsWith('/status') ? receivedByKind.status : receivedByKind.telemetry).inc();
    // A registered device over its fair share is turned away before anything is parsed.
    const serial = packet.topic.split('/', 3)[2];
    const overShare =
      serial !== undefined && registry.lookup(serial) ? fairShare.admit(serial, payload.length, receivedAtMs) : null;
    if (overShare) {
      metrics.rateLimited.labels(serial!).inc();
      const limited: ProcessedMessage = {
        lines: [],
        readings: 0,
        rejections: [
          {
            reason: 'rate_limited',
            detail: overShare,
            topic: packet.topic,
            serial: serial!,
            payload,
            payloadBytes: payload.length,
          },
        ],
      };
      try {
        record(limited, receivedAtMs, payload);
        return;
      } catch {
        return journalOrRetry(limited, receivedAtMs, payload);
      }
    }
    const result = validate(packet, payload, receivedAtMs);
    // An inverter registered a moment ago: wait for the registry reload already under way.
    if (result.rejections[0]?.reason === 'unknown_device' && registry.pendingReload) {
      return registry.pendingReload
        .catch(() => undefined)
        .then(() => judgeLate(validate(packet, payload, receivedAtMs), packet.topic))
        .then((judged) => journalOrRetry(judged, receivedAtMs, payload))
        .then(journaled);
    }
    if (result.deferred?.length)
      return judgeLate(result, packet.topic)
        .then((judged) => journalOrRetry(judged, receivedAtMs, payload))
        .then(journaled);
    if (disk.low) return journalOrRetry(result, receivedAtMs, payload).then(journaled);
    try {
      record(result, receivedAtMs, payload);
    } catch {
      return journalOrRetry(result, receivedAtMs, payload).then(journaled);
    }
    journaled();
  };

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
    () => holdReason() !== null,
  );
  const confirmations = new StoredConfirmations(client, (n) => metrics.messagesConfirmed.inc(n));
  const noConfirmation = () => {};
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
      const recordedAs = { worker: 'broker', timestampNs: cutTimestampNs(cut, Date.now()) };
      return void journalOrRetry(packetCut(cut), Date.now(), Buffer.alloc(0), recordedAs).then(() => acknowledge());
    }
    const arrivedAtMs = Date.now();
    noticeStall(arrivedAtMs);
    subscription.noteMessage(arrivedAtMs);
    const done = () => {
      tookNothingFor(Date.now() - arrivedAtMs); // the acknowledgement was held: the broker queued meanwhile
      acknowledge();
    };
    const finish = () => {
      drainer.pump();
      gate.pass(done);
    };
    const request: ConfirmationRequest | null = confirmationRequest(packet);
    const pending = handle(packet, request ? () => confirmations.note(request) : noConfirmation);
    if (pending) void pending.then(finish);
    else finish();
  };
  client.on('error', (error) => log.error({ error: error.message }, 'MQTT error'));
  let offlineSinceMs: number | null = null;
  client.on('offline', () => {
    offlineSinceMs ??= Date.now();
    log.warn('broker connection lost; reconnecting');
  });
  client.on('connect', () => {
    if (offlineSinceMs !== null) tookNothingFor(Date.now() - offlineSinceMs);
    offlineSinceMs = null;
  });

  // Each problem in words: /healthz answers 503 while any is present, so nobody reads "ok" while work is held.
  const problems = (nowMs: number): string[] => {
    const found: string[] = [];
    if (!client.connected) found.push('not connected to the broker');
    else if (!subscription.subscribed)
      found.push(
        diskProblem !== null || gate.holding
          ? "subscription not confirmed yet: the broker's answer waits behind the held message"
          : 'connected but the subscription is not granted yet',
      );
    if (subscription.starved)
      found.push(
        `connected but receiving nothing for ${Math.round((nowMs - subscription.lastMessageAtMs) / 1000)} s while the broker receives publishes`,
      );
    if (!historyReadable)
      found.push("cannot read InfluxDB to judge late readings against the device's history: holding the message");
    const reason = holdReason();
    if (reason) found.push(`acknowledgements held: ${reason}`);
    if (!drainer.influxHealthy)
      found.push(
        `${drainer.writerRefused ? 'InfluxDB refuses the writer (INFLUX_WRITER_USERNAME/PASSWORD, WRITE grant)' : 'InfluxDB writes failing'}: ` +
          `${journal.backlogBytes} bytes wait in the journal, the oldest ${Math.round(journal.lagMs(nowMs) / 1000)} s old`,
      );
    return found;
  };
  const holdReason = (): string | null =>
    diskProblem ??
    (gate.holding
      ? `journal backlog at its limit (INGEST_JOURNAL_MAX_BACKLOG_BYTES = ${config.journalMaxBacklogBytes} bytes): InfluxDB is behind or away`
      : historyReadable
        ? null
        : "waiting to read the device's history from InfluxDB");
  observe = (nowMs: number) => {
    metrics.backlogBytes.set(journal.backlogBytes);
    metrics.lagSeconds.set(journal.lagMs(nowMs) / 1000);
    metrics.storedLagSeconds.set(readingDelaySeconds(nowMs) + journal.lagMs(nowMs) / 1000);
    metrics.subscribed.set(subscription.subscribed && client.connected ? 1 : 0);
    metrics.starved.set(subscription.starved ? 1 : 0);
    metrics.silentSeconds.set((nowMs - subscription.lastMessageAtMs) / 1000);
    metrics.resubscribes.set(subscription.resubscribes);
    metrics.acksHeld.set(holdReason() === null ? 0 : 1);
    metrics.acksHeldFor.labels('disk').set(diskProblem === null ? 0 : 1);
    metrics.acksHeldFor.labels('backlog').set(gate.holding ? 1 : 0);
    if (disk.freeBytes !== null) metrics.diskFreeBytes.set(disk.freeBytes);
  };
  answerHealth = () => {
    const nowMs = Date.now();
    const found = problems(nowMs);
    const body = {
      status: found.length === 0 ? 'ok' : 'degraded',
      problems: found,
      worker: config.workerId,
      ...buildInfo(),
      mqttConnected: client.connected,
      subscribed: subscription.subscribed && client.connected,
      receiving: !subscription.starved,
      silentSeconds: (nowMs - subscription.lastMessageAtMs) / 1000,
      influxWritesHealthy: drainer.influxHealthy,
      influxWriterRefused: drainer.writerRefused,
      journalBacklogBytes: journal.backlogBytes,
      lagSeconds: journal.lagMs(nowMs) / 1000,
      readingDelaySeconds: readingDelaySeconds(nowMs),
      storedLagSeconds: readingDelaySeconds(nowMs) + journal.lagMs(nowMs) / 1000,
      acksHeld: holdReason() !== null,
      holdReason: holdReason(),
      diskFreeBytes: disk.freeBytes,
      diskReserveBytes: config.diskReserveBytes,
      historyReadable,
      registryDevices: registry.size,
    };
    return { code: found.length === 0 ? 200 : 503, body };
  };

  return {
    http,
    async stop(drainTimeoutMs = 5000) {
      confirmations.stop(); // while still connected
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
      const drained = await drainer.drained(drainTimeoutMs);
      if (!drained)
        log.warn(
          { backlogBytes: journal.backlogBytes },
          'stopping with journaled data not yet in InfluxDB; it is shipped on the next start',
        );
      subscription.stop();
      disk.stop();
      drainer.stop();
      clearInterval(forgetShipped);
      clearInterval(pruneBudget);
      await seeded;
      journal.close();
      await registry.close();
      await http.close();
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
