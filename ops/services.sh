#!/usr/bin/env bash
# Start, stop and inspect the project's own Mosquitto, InfluxDB, PostgreSQL, Prometheus, Alertmanager and
# nginx (the TLS reverse proxy).
#   ops/services.sh start|stop|status|restart|kill [mosquitto|influxdb|postgres ...]
# (kill is a crash, for the fault drills: SIGKILL to the service and its child processes, no shutdown.)
# Every instance listens on loopback only, keeps its data under .data/<profile>/ and is stopped
# by the PID it recorded, never by name (other instances on the machine are left alone).
set -euo pipefail
source "$(dirname "$0")/env.sh"

as_service_user() { # PostgreSQL refuses to run as root
  local user=$1; shift
  if [ "$(id -u)" = 0 ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }
pid_of() {
  local file
  case $1 in
    mosquitto) file="$SOLAR_DATA_DIR/mosquitto/mosquitto.pid" ;;
    influxdb) file="$SOLAR_DATA_DIR/influxdb/influxd.pid" ;;
    postgres) file="$SOLAR_DATA_DIR/postgres/data/postmaster.pid" ;;
    prometheus) file="$SOLAR_DATA_DIR/prometheus/prometheus.pid" ;;
    alertmanager) file="$SOLAR_DATA_DIR/alertmanager/alertmanager.pid" ;;
    nginx) file="$SOLAR_DATA_DIR/nginx/nginx.pid" ;;
  esac
  [ -f "$file" ] && head -n1 "$file" || true
}
port_of() {
  case $1 in
    mosquitto) echo "$MQTT_PORT";; influxdb) echo "$INFLUX_PORT";; postgres) echo "$PG_PORT";;
    prometheus) echo "$PROMETHEUS_PORT";; alertmanager) echo "$ALERTMANAGER_PORT";; nginx) echo "$PROXY_HTTPS_PORT";;
  esac
}

wait_for_port() { # name port seconds
  for _ in $(seq 1 $(( $3 * 10 ))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null && return 0
    sleep 0.1
  done
  fail "$1 did not open 127.0.0.1:$2 within $3 s; see its log under $SOLAR_DATA_DIR/$1/"
}

start_mosquitto() {
  local dir="$SOLAR_DATA_DIR/mosquitto"
  [ -f "$dir/mosquitto.conf" ] || fail "mosquitto is not configured for profile $SOLAR_PROFILE; run: SOLAR_PROFILE=$SOLAR_PROFILE npm run setup"
  rm -f "$dir/mosquitto.pid"
  mosquitto -c "$dir/mosquitto.conf" -d
  wait_for_port mosquitto "$MQTT_PORT" 20
}

start_influxdb() {
  local dir="$SOLAR_DATA_DIR/influxdb"
  [ -f "$dir/influxdb.conf" ] || fail "influxdb is not configured for profile $SOLAR_PROFILE; run: SOLAR_PROFILE=$SOLAR_PROFILE npm run setup"
  # Its own session: a Ctrl-C in the terminal that ran setup must not reach the database.
  setsid influxd run -config "$dir/influxdb.conf" -pidfile "$dir/influxd.pid" >>"$dir/influxd.log" 2>&1 < /dev/null &
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$INFLUX_PORT/ping" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "influxdb did not answer /ping within 30 s; see $dir/influxd.log"
}

start_postgres() {
  local dir="$SOLAR_DATA_DIR/postgres"
  [ -f "$dir/data/PG_VERSION" ] || fail "postgres is not initialised for profile $SOLAR_PROFILE; run: SOLAR_PROFILE=$SOLAR_PROFILE npm run setup"
  local pg_bin; pg_bin=$(pg_bin_for "$dir/data") || exit 1
  as_service_user postgres "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 start >/dev/null \
    || fail "postgres did not start; see $dir/postgres.log"
}

start_prometheus() {
  local dir="$SOLAR_DATA_DIR/prometheus"
  [ -f "$dir/prometheus.yml" ] || fail "prometheus is not configured for profile $SOLAR_PROFILE; run: SOLAR_PROFILE=$SOLAR_PROFILE npm run setup"
  # Prometheus writes no PID file: its own session (as InfluxDB), and the PID of the process recorded.
  setsid prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" \
    --storage.tsdb.retention.time=15d --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" \
    >>"$dir/prometheus.log" 2>&1 </dev/null &
  echo $! >"$dir/prometheus.pid"
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$PROMETHEUS_PORT/-/ready" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "prometheus did not become ready within 30 s; see $dir/prometheus.log"
}

start_alertmanager() {
  local dir="$SOLAR_DATA_DIR/alertmanager"
  [ -f "$dir/alertmanager.yml" ] || fail "alertmanager is not configured for profile $SOLAR_PROFILE; run: SOLAR_PROFILE=$SOLAR_PROFILE npm run setup"
  # One instance, no cluster (its gossip port would collide with other profiles'); PID recorded as Prometheus'.
  setsid prometheus-alertmanager --config.file="$dir/alertmanager.yml" --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$ALERTMANAGER_PORT" --cluster.listen-address= \
    >>"$dir/alertmanager.log" 2>&1 </dev/null &
  echo $! >"$dir/alertmanager.pid"
  for _ in $(seq 1 300); do
    curl -fsS -o /dev/null "http://127.0.0.1:$ALERTMANAGER_PORT/-/ready" 2>/dev/null && return 0
    sleep 0.1
  done
  fail "alertmanager did not become ready within 30 s; see $dir/alertmanager.log"
}

start_nginx() {
  local dir="$SOLAR_DATA_DIR/nginx"
  [ -f "$dir/nginx.conf" ] || fail "nginx is not configured for profile $SOLAR_PROFILE; run: SOLAR_PROFILE=$SOLAR_PROFILE npm run setup"
  rm -f "$dir/nginx.pid"
  # In the foreground of its own session: daemonizing, nginx sets its umask to 0 (world-readable logs).
  setsid nginx -c "$dir/nginx.conf" -p "$dir/" -e "$dir/error.log" -g 'daemon off;' </dev/null >>"$dir/error.log" 2>&1 &
  for _ in $(seq 1 200); do
    [ -s "$dir/nginx.pid" ] && (exec 3<>"/dev/tcp/127.0.0.1/$PROXY_HTTPS_PORT") 2>/dev/null && return 0
    sleep 0.1
  done
  fail "nginx did not listen on 127.0.0.1:$PROXY_HTTPS_PORT within 20 s; see $dir/error.log"
}

ready_one() { # name: wait until the service answers, as its start_ function does
  case $1 in
    influxdb) for _ in $(seq 1 600); do curl -fsS -o /dev/null "http://127.0.0.1:$INFLUX_PORT/ping" 2>/dev/null && return 0; sleep 0.1; done
      fail "influxdb did not answer /ping within 60 s; journalctl -u solar-influxdb" ;;
    *) wait_for_port "$1" "$(port_of "$1")" 60 ;;
  esac
}

systemd_one() { # action name unit
  local action=$1 name=$2 unit=$3
  case $action in
    start|restart) systemctl "$action" "$unit" || fail "systemctl $action $unit failed; journalctl -u $unit"
      ready_one "$name"; info "$name: ${action}ed by systemd ($unit, port $(port_of "$name"))" ;;
    stop) systemctl stop "$unit"; info "$name: stopped by systemd ($unit)" ;;
    kill) systemctl kill --signal=KILL "$unit"; info "$name: killed ($unit)" ;;
    status) if systemctl is-active --quiet "$unit"; then echo "$name: running ($unit, 127.0.0.1:$(port_of "$name"))"
      else echo "$name: stopped ($unit)"; fi ;;
  esac
}

stop_one() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if ! pid_alive "$pid"; then info "$name: not running"; return 0; fi
  # PostgreSQL's TERM is a "smart" shutdown that waits for every client to leave; INT is its fast one.
  if [ "$name" = postgres ]; then kill -INT "$pid"; else kill -TERM "$pid"; fi
  for _ in $(seq 1 300); do pid_alive "$pid" || { info "$name: stopped (pid $pid)"; return 0; }; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  # Gone before returning: a start right after must not find the old PID still alive.
  for _ in $(seq 1 100); do pid_alive "$pid" || break; sleep 0.1; done
  info "$name: killed after 30 s (pid $pid)"
}

kill_one() {
  local name=$1 pid children
  pid=$(pid_of "$name")
  if ! pid_alive "$pid"; then info "$name: not running"; return 0; fi
  # By PID: the server and its children (PostgreSQL's backends) die at once, as in a crash or the
  # OOM killer; nothing is flushed or shut down. The next start recovers from what is on disk.
  children=$(pgrep -P "$pid" || true)
  # shellcheck disable=SC2086
  kill -KILL "$pid" $children 2>/dev/null || true
  for p in $pid $children; do
    for _ in $(seq 1 100); do pid_alive "$p" || break; sleep 0.1; done
  done
  info "$name: killed (pid $pid)"
}

start_one() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if pid_alive "$pid"; then info "$name: already running (pid $pid, port $(port_of "$name"))"; return 0; fi
  "start_$name"
  info "$name: running (pid $(pid_of "$name"), 127.0.0.1:$(port_of "$name"))"
}

status_one() {
  local name=$1 pid
  pid=$(pid_of "$name")
  if pid_alive "$pid"; then echo "$name: running (pid $pid, 127.0.0.1:$(port_of "$name"))"; else echo "$name: stopped"; fi
}

action=${1:-status}; shift || true
# Logs are kept bounded at every start of the whole profile (setup's), hourly while npm start runs
# and by a production host's timer; not when a drill restarts one service and reads its log.
if [ "$action" = start ] && [ $# -eq 0 ]; then bash "$SOLAR_ROOT/ops/rotate-logs.sh"; fi
services=("$@"); [ ${#services[@]} -gt 0 ] || services=(postgres influxdb mosquitto prometheus alertmanager nginx)
for s in "${services[@]}"; do
  case $s in
    mosquitto|influxdb|postgres|prometheus|alertmanager|nginx) ;;
    *) fail "unknown service '$s' (mosquitto, influxdb, postgres, prometheus, alertmanager, nginx)";;
  esac
  # On a production host (units installed: unit_of in env.sh) every action goes through systemctl.
  # Acting by PID there stopped the unit's process (a clean exit, which systemd does not restart) and
  # started a second instance as root beside the unit, e.g. at setup's restart of a service whose
  # configuration or certificate changed, during an upgrade or a restore.
  if unit=$(unit_of "$s"); then
    case $action in start|stop|restart|kill|status) systemd_one "$action" "$s" "$unit"; continue ;; esac
  fi
  case $action in
    start) start_one "$s" ;;
    stop) stop_one "$s" ;;
    restart) stop_one "$s"; start_one "$s" ;;
    kill) kill_one "$s" ;;
    status) status_one "$s" ;;
    *) fail "usage: ops/services.sh start|stop|restart|kill|status [service...]" ;;
  esac
done
