// Ingest health: is every worker up, keeping up and storing what it acknowledged? Live figures come
// from Prometheus, which scrapes each worker's /metrics (dashboards/README.md says why not
// InfluxDB); the rejected messages themselves are kept in InfluxDB with their reason.
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { type DashboardSpec, finish, influxql, promql, queryVariable, solarDashboard } from './grafana';
import { stat, table, timeseries, UNIT } from './panels';

const W = `job="ingest", worker=~"$worker"`;

export const ingestHealth: DashboardSpec = {
  uid: 'solar-ingest-health',
  folder: 'Platform',
  build: () =>
    finish(
      solarDashboard(
        'solar-ingest-health',
        'Ingest health',
        'Ingest workers: up or down, readings per second, rejects by reason, lag, journal backlog, held acknowledgements and InfluxDB writes, per worker.',
        ['prometheus', 'influx'],
        { from: 'now-1h', refresh: '30s' },
      )
        .withVariable(
          queryVariable('worker', 'Worker', 'prometheus', 'label_values(up{job="ingest"}, worker)', {
            multi: true,
            includeAll: true,
            description: 'Ingest workers (INGEST_WORKER_ID), as Prometheus scrapes them.',
            expect: { shape: 'table', columns: ['worker'], minRows: 1 },
          }),
        )
        .withPanel(
          stat({
            title: 'Workers up',
            description: 'Workers whose /metrics Prometheus scraped successfully the last time (up = 1).',
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [promql('A', `sum(up{${W}})`, 'up', { shape: 'series' })],
          }),
        )
        .withPanel(
          stat({
            title: 'Workers down',
            description: 'Workers Prometheus could not scrape: stopped, crashed or unreachable. Should be 0.',
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [promql('A', `count(up{${W}} == 0) or vector(0)`, 'down', { shape: 'series' })],
          }),
        )
        .withPanel(
          stat({
            title: 'Acknowledgements held',
            description:
              'Workers holding their MQTT acknowledgements because the journal backlog reached ' +
              'INGEST_JOURNAL_MAX_BACKLOG_BYTES (InfluxDB down or too slow); the broker queues meanwhile. Should be 0.',
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [promql('A', `sum(ingest_acks_held{${W}})`, 'held', { shape: 'series' })],
          }),
        )
        .withPanel(
          stat({
            title: 'Oldest unstored reading',
            description:
              'Largest lag over the workers: age of the oldest journaled data not yet confirmed by InfluxDB.',
            unit: UNIT.seconds,
            w: 6,
            h: 5,
            targets: [promql('A', `max(ingest_lag_seconds{${W}})`, 'lag', { shape: 'series' })],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Readings accepted per second',
            description: 'Valid readings journaled and acknowledged, per worker, per second.',
            unit: 'suffix: readings/s',
            stacked: true,
            w: 12,
            h: 8,
            targets: [
              promql(
                'A',
                `sum by (worker) (rate(ingest_readings_accepted_total{${W}}[$__rate_interval]))`,
                '{{worker}}',
                { shape: 'series', minSeries: 1 },
              ),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Rejects per second by reason',
            description:
              'Rejected messages or readings per second by reason (ingest/README.md lists them); each is stored in InfluxDB with its payload (table below).',
            unit: 'suffix: rejects/s',
            stacked: true,
            w: 12,
            h: 8,
            targets: [
              promql('A', `sum by (reason) (rate(ingest_rejected_total{${W}}[$__rate_interval]))`, '{{reason}}', {
                shape: 'series',
                minSeries: 1,
              }),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Devices over their fair share',
            description:
              'Messages per second of devices over their share, by serial: refused at the broker (its share, ' +
              "four times ingest's: the connection closed before the message is acknowledged; every worker reads " +
              "the broker's reports, hence max) and turned away unparsed by ingest (INGEST_DEVICE_*: 5 " +
              'messages/s, bursts of 300; 64 KiB/s, bursts of 8 MiB). A real inverter never gets here; ' +
              'Prometheus raises IngestDeviceOverFairShare (ops/monitor/rules.yml).',
            unit: UNIT.perSecond,
            w: 12,
            h: 8,
            targets: [
              promql(
                'A',
                `topk(10, sum by (serial) (rate(ingest_device_rate_limited_total{${W}}[$__rate_interval])))`,
                '{{serial}}',
                { shape: 'series', mayBeEmpty: true }, // empty while no device floods
              ),
              promql(
                'B',
                `topk(10, max by (serial) (rate(ingest_broker_fair_share_refused_total{${W}}[$__rate_interval])))`,
                '{{serial}} at the broker',
                { shape: 'series', mayBeEmpty: true },
              ),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Lag per worker',
            description: 'Age of the oldest journaled data not yet in InfluxDB, per worker, in seconds.',
            unit: UNIT.seconds,
            w: 8,
            h: 8,
            targets: [promql('A', `max by (worker) (ingest_lag_seconds{${W}})`, '{{worker}}', { shape: 'series' })],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Journal backlog per worker',
            description:
              'Journaled bytes not yet confirmed by InfluxDB, per worker; acknowledgements are held at the limit.',
            unit: UNIT.bytes,
            w: 8,
            h: 8,
            targets: [
              promql('A', `max by (worker) (ingest_journal_backlog_bytes{${W}})`, '{{worker}}', { shape: 'series' }),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'InfluxDB write latency (p95) and failures',
            description:
              '95th percentile of the InfluxDB write duration per worker, in seconds, and failed writes per second by kind.',
            unit: UNIT.seconds,
            w: 8,
            h: 8,
            targets: [
              promql(
                'A',
                `histogram_quantile(0.95, sum by (le, worker) (rate(ingest_write_duration_seconds_bucket{${W}}[$__rate_interval])))`,
                'p95 {{worker}}',
                { shape: 'series' },
              ),
              promql(
                'B',
                `sum by (worker, kind) (rate(ingest_write_failures_total{${W}}[$__rate_interval]))`,
                'failures/s {{worker}} {{kind}}',
                { shape: 'series', mayBeEmpty: true },
              ),
            ],
          }).overrideByRegexp('^failures', [{ id: 'unit', value: 'suffix: failures/s' }]),
        )
        .withPanel(
          timeseries({
            title: 'Rejected messages stored, by reason',
            description: 'Rejected messages or readings recorded in InfluxDB per interval, by reason.',
            unit: UNIT.count,
            bars: true,
            stacked: true,
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT count("payload_bytes") FROM "rejected"."rejected_message" WHERE $timeFilter GROUP BY time($__interval), "reason" fill(none)`,
                { shape: 'series' },
                { alias: '$tag_reason' },
              ),
            ],
          }),
        )
        .withPanel(
          table({
            title: 'Latest rejected messages',
            description:
              'The newest rejected messages (one record per message, with how many readings it held) with their ' +
              'reason, the worker that saw them, the serial and topic and what was wrong (payloads are kept, ' +
              'truncated, for 30 days in InfluxDB\'s "rejected" retention policy).',
            unit: UNIT.text,
            columnUnits: { payload_bytes: UNIT.bytes },
            w: 12,
            h: 8,
            targets: [
              influxql(
                'A',
                `SELECT "serial", "topic", "detail", "readings", "payload_bytes" FROM ` +
                  `"rejected"."rejected_message" WHERE $timeFilter GROUP BY "reason", "worker" ORDER BY time DESC LIMIT 100`,
                { shape: 'table', columns: ['reason', 'worker', 'serial', 'detail'], minRows: 1 },
              ),
            ],
          }),
        )
        // The platform's own alerts (ops/monitor/README.md): Prometheus' rules over ingest's and the monitor's metrics.
        .withRow(new RowBuilder('Operations'))
        .withPanel(
          stat({
            title: 'Platform alerts firing',
            description:
              'Alerts of ops/monitor/rules.yml firing now (Alertmanager delivers them with their runbook to the ' +
              "technicians' webhooks and e-mail), but the Watchdog, which always fires. Should be 0.",
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [
              promql('A', 'count(ALERTS{alertstate="firing",alertname!="Watchdog"}) or vector(0)', 'firing', {
                shape: 'series',
              }),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Dependencies down',
            description:
              'PostgreSQL, InfluxDB and the broker as the monitor reaches them: how many do not answer. Should be 0.',
            unit: UNIT.count,
            w: 6,
            h: 5,
            targets: [promql('A', 'count(solar_dependency_up == 0) or vector(0)', 'down', { shape: 'series' })],
          }),
        )
        .withPanel(
          stat({
            title: 'Data disk free',
            description: 'Free share of the file system holding the data directory (alerts below 10 % and 3 %).',
            unit: 'percentunit',
            w: 6,
            h: 5,
            targets: [
              promql('A', 'min(solar_data_disk_free_bytes / solar_data_disk_size_bytes)', 'free', {
                shape: 'series',
                mayBeEmpty: true,
              }),
            ],
          }),
        )
        .withPanel(
          stat({
            title: 'Newest backup age',
            description: 'Time since the last successful `npm run ops -- backup` (alerts after 26 hours).',
            unit: UNIT.seconds,
            w: 6,
            h: 5,
            targets: [
              promql('A', 'time() - max(solar_backup_last_success_timestamp_seconds)', 'age', {
                shape: 'series',
                mayBeEmpty: true,
              }),
            ],
          }),
        )
        .withPanel(
          timeseries({
            title: 'Platform alerts over time',
            description: 'Which alerts fired when, by name and severity (each has a runbook in ops/monitor/rules.yml).',
            unit: UNIT.count,
            stacked: true,
            w: 24,
            h: 8,
            targets: [
              promql(
                'A',
                'sum by (alertname, severity) (ALERTS{alertstate="firing",alertname!="Watchdog"})',
                '{{alertname}} ({{severity}})',
                {
                  shape: 'series',
                  mayBeEmpty: true,
                },
              ),
            ],
          }),
        ),
    ),
};
