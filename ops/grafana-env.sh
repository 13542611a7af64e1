#!/usr/bin/env bash
# Prints the environment a stock Grafana needs to load dashboards/provisioning/ against a profile's
# services (dashboards/README.md):  eval "$(bash ops/grafana-env.sh)"  then start grafana-server.
set -euo pipefail
source "$(dirname "$0")/env.sh"
[ -f "$PLATFORM_ENV" ] || fail "no $PLATFORM_ENV: run 'SOLAR_PROFILE=$SOLAR_PROFILE npm run setup' first"
set -a; source "$PLATFORM_ENV"; set +a
pg_host_port=${DATABASE_URL#*@}; pg_host_port=${pg_host_port%%/*}
pg_database=${DATABASE_URL##*/}; pg_database=${pg_database%%\?*}
cat <<ENV
export GF_PATHS_PROVISIONING='$SOLAR_ROOT/dashboards/provisioning'
export SOLAR_DASHBOARDS_PATH='$SOLAR_ROOT/dashboards/json'
export SOLAR_INFLUX_URL='$INFLUX_URL'
export SOLAR_INFLUX_DATABASE='$INFLUX_DATABASE'
export SOLAR_INFLUX_READER_USERNAME='${INFLUX_READER_USERNAME:-}'
export SOLAR_INFLUX_READER_PASSWORD='${INFLUX_READER_PASSWORD:-}'
export SOLAR_PG_HOST='$pg_host_port'
export SOLAR_PG_DATABASE='$pg_database'
export SOLAR_PG_SSLMODE='disable'
export SOLAR_PG_READER_USERNAME='$PG_DASHBOARDS_USERNAME'
export SOLAR_PG_READER_PASSWORD='$PG_DASHBOARDS_PASSWORD'
export SOLAR_PROMETHEUS_URL='$PROMETHEUS_URL'
ENV
