#!/usr/bin/env bash
# Runs a command (a benchmark, a CLI) against a profile's real services (default: test), setting
# them up first if they are not running.
set -euo pipefail
export SOLAR_PROFILE="${SOLAR_PROFILE:-test}"
source "$(dirname "$0")/env.sh"
# Set up only when needed: a ready profile has its environment file (of this version: with InfluxDB's
# users) and its running services. `grep` without -q reads the whole status: with pipefail, -q's early
# exit killed services.sh with SIGPIPE, the pipeline failed, and a stopped profile was not set up.
# A production host's services are systemd's (unit_of, env.sh): a command run while they are
# stopped (a restore, a rollback's on the older release's code) must not set the host up again.
if [ ! -f "$PLATFORM_ENV" ] || ! grep -q '^INFLUX_READER_USERNAME=' "$PLATFORM_ENV" \
  || { ! unit_of postgres >/dev/null && bash "$SOLAR_ROOT/ops/services.sh" status | grep stopped >/dev/null; }; then
  bash "$SOLAR_ROOT/ops/setup.sh" >&2
fi
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"
exec npx "$@"
