// Prometheus metrics of one ingest worker (served on /metrics).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerBuildInfo } from '../../lib/version';
import { REJECT_REASONS } from './process-message';

export function createIngestMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ingest_process_' });
  registerBuildInfo(registry, 'ingest');
  const metrics = {
    registry,
    messagesReceived: new Counter({
      name: 'ingest_messages_received_total',
      help: 'MQTT messages received',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    readingsAccepted: new Counter({
      name: 'ingest_readings_accepted_total',
      help: 'Valid readings journaled (acknowledged to the broker)',
      registers: [registry],
    }),
    readingsDuplicate: new Counter({
      name: 'ingest_readings_duplicate_total',
      help: 'Readings already stored with the same values (redeliveries, re-sent buffers): not written again',
      registers: [registry],
    }),
    messagesConfirmed: new Counter({
      name: 'ingest_messages_confirmed_total',
      help: "Messages confirmed journaled to the gateway that asked (its outbox then lets them go; the broker's PUBACK does not)",
      registers: [registry],
    }),
    pointsWritten: new Counter({
      name: 'ingest_points_written_total',
      help: 'Points confirmed stored by InfluxDB (readings, statuses, rejections)',
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'ingest_rejected_total',
      help: 'Rejected messages or readings, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    rejectionsUnrecorded: new Counter({
      name: 'ingest_rejections_unrecorded_total',
      help: 'Rejected messages counted but not stored: the device was over its budget of rejection records (the next stored one says how many)',
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'ingest_device_rate_limited_total',
      help: 'Messages of a registered device turned away unparsed because it was over its fair share (by serial: only devices that flood get a series)',
      labelNames: ['serial'] as const,
      registers: [registry],
    }),
    brokerRefused: new Counter({
      name: 'ingest_broker_fair_share_refused_total',
      help:
        'Messages the broker refused a device beyond its fair share there (its connection closed before they ' +
        "were acknowledged: the device sends them again), by serial, from the broker's fair-share reports; every worker reads them all",
      labelNames: ['serial'] as const,
      registers: [registry],
    }),
    brokerRefusedBytes: new Counter({
      name: 'ingest_broker_fair_share_refused_bytes_total',
      help: 'Payload bytes of the messages in ingest_broker_fair_share_refused_total, by serial',
      labelNames: ['serial'] as const,
      registers: [registry],
    }),
    packetsCut: new Counter({
      name: 'ingest_broker_packets_cut_total',
      help:
        "Packets the broker cut for being over its max_packet_size (it closed the client's connection; nothing " +
        "of them arrived), by the client's broker account, from the broker's log",
      labelNames: ['account'] as const,
      registers: [registry],
    }),
    batchPoints: new Histogram({
      name: 'ingest_batch_points',
      help: 'Points per InfluxDB write',
      buckets: [10, 100, 500, 1000, 2500, 5000, 10000, 25000],
      registers: [registry],
    }),
    writeSeconds: new Histogram({
      name: 'ingest_write_duration_seconds',
      help: 'InfluxDB write latency',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    writeFailures: new Counter({
      name: 'ingest_write_failures_total',
      help: 'Failed InfluxDB writes',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    backlogBytes: new Gauge({
      name: 'ingest_journal_backlog_bytes',
      help: 'Journaled bytes not yet confirmed by InfluxDB',
      registers: [registry],
    }),
    lagSeconds: new Gauge({
      name: 'ingest_lag_seconds',
      help: 'Age of the oldest journaled data not yet in InfluxDB',
      registers: [registry],
    }),
    readingDelay: new Histogram({
      name: 'ingest_reading_delay_seconds',
      help:
        "Live readings' age when ingest received them (its receipt time minus the reading's own timestamp): the " +
        "broker's queue and ingest's backlog; buffered readings older than 10 minutes are not live",
      buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 60, 120, 300, 600],
      registers: [registry],
    }),
    storedLagSeconds: new Gauge({
      name: 'ingest_stored_lag_seconds',
      help: "Publish-to-stored lag: the oldest live reading's age at receipt over the last 10-20 s plus the journal's lag to InfluxDB",
      registers: [registry],
    }),
    acksHeld: new Gauge({
      name: 'ingest_acks_held',
      help: '1 while acknowledgements are held (the broker queues): see ingest_acks_held_for for the reason',
      registers: [registry],
    }),
    acksHeldFor: new Gauge({
      name: 'ingest_acks_held_for',
      help: '1 for the reason acknowledgements are held: disk (under the reserve or a write failing), backlog (journal at its limit: InfluxDB behind or away)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    diskFreeBytes: new Gauge({
      name: 'ingest_disk_free_bytes',
      help: "Free bytes on the journal's filesystem (acks are held under INGEST_DISK_RESERVE_BYTES)",
      registers: [registry],
    }),
    subscribed: new Gauge({
      name: 'ingest_subscribed',
      help: '1 while connected with the shared subscription granted (SUBACK) on this connection',
      registers: [registry],
    }),
    starved: new Gauge({
      name: 'ingest_receiving_nothing',
      help: '1 while connected but receiving nothing although the broker receives publishes',
      registers: [registry],
    }),
    silentSeconds: new Gauge({
      name: 'ingest_seconds_since_last_message',
      help: 'Seconds since this worker last received a message',
      registers: [registry],
    }),
    resubscribes: new Gauge({
      name: 'ingest_watchdog_resubscribes',
      help: 'Times the watchdog subscribed again after finding the worker starved (since start)',
      registers: [registry],
    }),
    brokerReconnects: new Counter({
      name: 'ingest_broker_reconnects_total',
      help: 'Times the broker connection was lost and made again (since start)',
      registers: [registry],
    }),
    registryDevices: new Gauge({
      name: 'ingest_registry_devices',
      help: 'Active inverters known to this worker',
      registers: [registry],
    }),
  };
  for (const reason of REJECT_REASONS) metrics.rejected.labels(reason).inc(0);
  return metrics;
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
