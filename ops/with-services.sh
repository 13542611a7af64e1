#!/usr/bin/env bash
# Runs a command (a benchmark, a CLI) against the test profile's real services, setting them up first.
set -euo pipefail
export SOLAR_PROFILE="${SOLAR_PROFILE:-test}"
bash "$(dirname "$0")/setup.sh" >/dev/null || bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"
exec npx "$@"
