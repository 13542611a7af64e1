#!/usr/bin/env bash
# `npm start`: sets up the `run` profile and runs the platform in the foreground — ingest, the API
# and a simulated fleet — until Ctrl-C. Children are stopped by PID; the databases and broker keep
# running (stop them with `npm run services stop`).
set -euo pipefail
export SOLAR_PROFILE=run
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"

pids=()
stop_children() {
  trap - INT TERM EXIT
  step "Stopping ingest, the API, billing, alerts and the fleet (the services keep running: npm run services stop)"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -f "$PROMETHEUS_TARGETS_DIR/ingest-1.json"
}
trap 'stop_children; exit 0' INT TERM
trap stop_children EXIT

mkdir -p "$SOLAR_DATA_DIR/logs"
start_child() { # name, command...
  local name=$1; shift
  "$@" >>"$SOLAR_DATA_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
  info "$name: pid $!, log $SOLAR_DATA_DIR/logs/$name.log"
}

step "Starting the platform"
start_child ingest node --import tsx ingest/src/main.ts
for _ in $(seq 1 100); do curl -fsS -o /dev/null "http://127.0.0.1:$INGEST_HTTP_PORT/healthz" 2>/dev/null && break; sleep 0.2; done
curl -fsS -o /dev/null "http://127.0.0.1:$INGEST_HTTP_PORT/healthz" || fail "ingest did not become healthy; see $SOLAR_DATA_DIR/logs/ingest.log"
# Prometheus scrapes the worker from now on (Ingest health dashboard); stopped workers are removed.
printf '[{"targets": ["127.0.0.1:%s"], "labels": {"worker": "1"}}]\n' "$INGEST_HTTP_PORT" >"$PROMETHEUS_TARGETS_DIR/ingest-1.json"
start_child api node --max-semi-space-size=64 --import tsx api/src/server.ts
start_child billing node --import tsx billing/src/cli.ts schedule
start_child alerts node --import tsx alerts/src/cli.ts run
start_child fleet node --import tsx simulators/src/cli.ts fleet --inverters "${FLEET_INVERTERS:-200}" --interval "${FLEET_INTERVAL_S:-10}" --register --provision

step "Running (Ctrl-C to stop)"
info "API and its docs: http://127.0.0.1:$API_PORT/docs  (first admin: npm run ops -- create-user --username admin --role ADMIN)"
info "billing:         daily draft of the current month (npm run billing -- show)"
info "alerts:          evaluated every ${ALERTS_INTERVAL_SECONDS:-300} s (GET /alerts; npm run alerts -- evaluate)"
info "ingest health:   http://127.0.0.1:$INGEST_HTTP_PORT/healthz"
info "ingest metrics:  http://127.0.0.1:$INGEST_HTTP_PORT/metrics"
info "InfluxDB:        $INFLUX_URL (database $INFLUX_DATABASE)"
info "Prometheus:      $PROMETHEUS_URL (scrapes ingest; Grafana: dashboards/README.md)"
info "readings stored: curl -s '$INFLUX_URL/query?db=$INFLUX_DATABASE' --data-urlencode 'q=SELECT count(energy_wh_total) FROM telemetry WHERE time > now() - 5m'"
wait -n "${pids[@]}" || true
fail "a platform process exited; see $SOLAR_DATA_DIR/logs/"
