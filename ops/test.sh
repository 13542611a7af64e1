#!/usr/bin/env bash
# `npm test`: sets up the test profile (its own services, data and ports) and runs every test
# against the real Mosquitto, InfluxDB, PostgreSQL and Chromium. Extra arguments go to vitest.
set -euo pipefail
export SOLAR_PROFILE=test
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"
set -a; source "$PLATFORM_ENV"; set +a
step "Running the tests"
cd "$SOLAR_ROOT"
npx vitest run "$@"
