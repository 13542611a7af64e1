#!/usr/bin/env bash
# Runs a command (a benchmark, a CLI) against a profile's real services (default: test), setting
# them up first if they are not running.
set -euo pipefail
export SOLAR_PROFILE="${SOLAR_PROFILE:-test}"
source "$(dirname "$0")/env.sh"
# Set up only when needed: a ready profile has its environment file (of this version: with InfluxDB's
# users) and its running services. `grep` without -q reads the whole status: with pipefail, -q's early
# exit killed services.sh with SIGPIPE, the pipeline failed, and a stopped profile was not set up.
if [ ! -f "$PLATFORM_ENV" ] || ! grep -q '^INFLUX_READER_USERNAME=' "$PLATFORM_ENV" \
  || bash "$SOLAR_ROOT/ops/services.sh" status | grep stopped >/dev/null; then
  bash "$SOLAR_ROOT/ops/setup.sh" >&2
fi
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"
exec npx "$@"
