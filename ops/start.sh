#!/usr/bin/env bash
# `npm start`: sets up the `run` profile, seeds the demo program once, and runs the platform in the
# foreground — ingest, the API, billing's scheduler, alerts and the demo's simulated fleet — until
# Ctrl-C. Children are stopped by PID; the databases and broker keep running (`npm run services stop`).
set -euo pipefail
export SOLAR_PROFILE=run
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"

pids=()
helpers=() # one-off background jobs: their ending is not a platform process exiting
stop_children() {
  trap - INT TERM EXIT
  step "Stopping ingest, the API, billing, alerts and the fleet (the services keep running: npm run services stop)"
  for pid in "${pids[@]}" "${helpers[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}" "${helpers[@]}"; do wait "$pid" 2>/dev/null || true; done
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
step "Demo program (seeded once: people, shares, three billed months through the simulator)"
node --import tsx demo/src/cli.ts seed --installations "${FLEET_INVERTERS:-200}" \
  || fail "the demo seed failed (see above; ingest's log: $SOLAR_DATA_DIR/logs/ingest.log)"
# The history's hourly and daily rollups (dashboards) fill in the background, once; it ends by itself.
node --import tsx demo/src/cli.ts rollups >>"$SOLAR_DATA_DIR/logs/demo-rollups.log" 2>&1 &
helpers+=($!)
node --import tsx api/src/cli.ts first-admin --password-file "$SOLAR_DATA_DIR/first-admin-password" | sed 's/^/    /'
start_child api node --max-semi-space-size=64 --import tsx api/src/server.ts
start_child fleet node --import tsx simulators/src/cli.ts fleet --scenario "$SOLAR_DATA_DIR/demo/fleet.json" \
  --interval "${FLEET_INTERVAL_S:-10}" --provision --continue-counters
# After the seed: the scheduler's catch-up draft at start sees the whole registry.
start_child billing node --import tsx billing/src/cli.ts schedule
start_child alerts node --import tsx alerts/src/cli.ts run
# The platform's own health for Prometheus' rules (ops/monitor/README.md).
start_child monitor node --import tsx ops/monitor/main.ts

# The services' and these processes' logs stay bounded while the platform runs (ops/rotate-logs.sh).
(while sleep 3600; do bash "$SOLAR_ROOT/ops/rotate-logs.sh" >/dev/null; done) &
helpers+=($!)

step "Running (Ctrl-C to stop)"
bash "$SOLAR_ROOT/ops/welcome.sh"
wait -n "${pids[@]}" || true
fail "a platform process exited; see $SOLAR_DATA_DIR/logs/"
