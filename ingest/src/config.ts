// Ingest's settings, read from the environment with lib's reader and checked before a worker starts.
import {
  type Env,
  EnvReader,
  type InfluxConfig,
  type MqttConfig,
  readDatabaseUrl,
  readInfluxConfig,
  readMqttConfig,
} from '../../lib/config';
import { MAX_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE } from '../../lib/telemetry/contract';
import { DEVICE_FAIR_SHARE, type FairShare } from '../../lib/telemetry/fair-share';

export interface IngestConfig {
  workerId: string;
  mqtt: MqttConfig;
  influx: InfluxConfig;
  /** InfluxDB's reader: a late reading is judged against the device's stored history (history.ts). */
  influxReader: InfluxConfig;
  databaseUrl: string;
  /** Workers of one group split the messages; null (INGEST_SHARE_GROUP=none): one worker, a plain subscription. */
  shareGroup: string | null;
  httpPort: number;
  dataDir: string;
  /** Largest MQTT payload accepted (at most the contract's MAX_PAYLOAD_BYTES); larger ones are recorded as rejected with their size. */
  maxPayloadBytes: number;
  /** Each device's share of ingest (lib/telemetry/fair-share.ts): beyond it, messages are rejected unparsed as rate_limited. */
  fairShare: FairShare;
  maxReadingsPerMessage: number;
  /** Readings stamped further than this in the future (device clock) are rejected. */
  maxClockAheadMs: number;
  /** Power above rating × this factor (percent) is implausible. */
  powerTolerancePercent: number;
  /** A counter above the rating × this many years at full output is rejected. */
  counterLifetimeYears: number;
  batchMaxBytes: number;
  flushIntervalMs: number;
  writesInFlight: number;
  journalSegmentBytes: number;
  /** Unwritten journal bytes above which acknowledgements are held (disk guard). */
  journalMaxBacklogBytes: number;
  /** Free disk space under which acknowledgements are held (0: only when a write fails). */
  diskReserveBytes: number;
  registryRefreshMs: number;
  /** Silence after which publishes the broker receives mean the subscription is lost (subscription.ts). */
  silenceMs: number;
  silenceMinBrokerPublishes: number;
  /** MQTT keepalive (s): a ping after this long without a message acknowledged; unanswered, the connection closes at 1.5×. */
  mqttKeepaliveS: number;
  logLevel: string;
}

export function readIngestConfig(env: Env = process.env): IngestConfig {
  const r = new EnvReader(env);
  const workerId = r.string('INGEST_WORKER_ID', '1');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(workerId))
    r.problems.push(`INGEST_WORKER_ID must be 1-32 letters, digits, '-' or '_', got '${workerId}'`);
  const shareGroup = r.string('INGEST_SHARE_GROUP', 'none');
  if (!/^[^/+#\s]{1,64}$/.test(shareGroup))
    r.problems.push(
      `INGEST_SHARE_GROUP must be 'none' or 1-64 characters without '/', '+', '#' or spaces, got '${shareGroup}'`,
    );
  const config: Omit<IngestConfig, 'mqtt' | 'influx' | 'influxReader' | 'databaseUrl'> = {
    workerId,
    shareGroup: shareGroup === 'none' ? null : shareGroup,
    httpPort: r.integer('INGEST_HTTP_PORT', 9464, 0, 65535),
    dataDir: r.string('INGEST_DATA_DIR', '.data/run/ingest'),
    maxPayloadBytes: r.integer('INGEST_MAX_PAYLOAD_BYTES', MAX_PAYLOAD_BYTES, 1024, MAX_PAYLOAD_BYTES),
    fairShare: {
      messagesPerSecond: r.integer(
        'INGEST_DEVICE_MESSAGES_PER_SECOND',
        DEVICE_FAIR_SHARE.messagesPerSecond,
        1,
        1_000_000,
      ),
      messageBurst: r.integer('INGEST_DEVICE_MESSAGE_BURST', DEVICE_FAIR_SHARE.messageBurst, 1, 100_000_000),
      bytesPerSecond: r.integer(
        'INGEST_DEVICE_BYTES_PER_SECOND',
        DEVICE_FAIR_SHARE.bytesPerSecond,
        1024,
        1_073_741_824,
      ),
      byteBurst: r.integer('INGEST_DEVICE_BYTE_BURST', DEVICE_FAIR_SHARE.byteBurst, MAX_PAYLOAD_BYTES, 1_073_741_824),
    },
    maxReadingsPerMessage: r.integer('INGEST_MAX_READINGS_PER_MESSAGE', MAX_READINGS_PER_MESSAGE, 1, 100_000),
    maxClockAheadMs: r.integer('INGEST_MAX_CLOCK_AHEAD_MS', 5 * 60_000, 0, 86_400_000),
    powerTolerancePercent: r.integer('INGEST_POWER_TOLERANCE_PERCENT', 130, 100, 1000),
    counterLifetimeYears: r.integer('INGEST_COUNTER_LIFETIME_YEARS', 40, 1, 200),
    batchMaxBytes: r.integer('INGEST_BATCH_MAX_BYTES', 1_048_576, 4096, 25_000_000),
    flushIntervalMs: r.integer('INGEST_FLUSH_INTERVAL_MS', 250, 1, 60_000),
    writesInFlight: r.integer('INGEST_WRITES_IN_FLIGHT', 2, 1, 16),
    journalSegmentBytes: r.integer('INGEST_JOURNAL_SEGMENT_BYTES', 8 * 1_048_576, 4096, 2 ** 31 - 1),
    journalMaxBacklogBytes: r.integer('INGEST_JOURNAL_MAX_BACKLOG_BYTES', 8 * 1024 ** 3, 1024, Number.MAX_SAFE_INTEGER),
    diskReserveBytes: r.integer('INGEST_DISK_RESERVE_BYTES', 256 * 1_048_576, 0, Number.MAX_SAFE_INTEGER),
    registryRefreshMs: r.integer('INGEST_REGISTRY_REFRESH_MS', 300_000, 1000, 86_400_000),
    silenceMs: r.integer('INGEST_SILENCE_MS', 30_000, 1000, 3_600_000),
    silenceMinBrokerPublishes: r.integer('INGEST_SILENCE_MIN_BROKER_PUBLISHES', 20, 1, 1_000_000),
    mqttKeepaliveS: r.integer('INGEST_MQTT_KEEPALIVE_S', 60, 1, 3600),
    logLevel: r.logLevel(),
  };
  const mqtt = r.include(() => readMqttConfig(env, 'INGEST'));
  const influx = r.include(() => readInfluxConfig(env, 'WRITER'));
  const influxReader = r.include(() => readInfluxConfig(env, 'READER'));
  const databaseUrl = r.include(() => readDatabaseUrl(env));
  return r.done({ ...config, mqtt, influx, influxReader, databaseUrl });
}
