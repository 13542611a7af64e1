#!/usr/bin/env bash
# `npm test`: sets up the test profile (its own services, data and ports) and runs every test
# against the real Mosquitto, InfluxDB, PostgreSQL and Chromium. Extra arguments go to vitest.
set -euo pipefail
export SOLAR_PROFILE=test
source "$(dirname "$0")/env.sh"
empty_test_broker
bash "$SOLAR_ROOT/ops/setup.sh"
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"
step "Checking format, lint and types"
if ! npx biome ci --error-on-warnings --colors=off . >/dev/null 2>&1; then
  npx biome ci --error-on-warnings --colors=off . || true
  fail "format or lint check failed: run 'npm run format' and fix what 'npm run lint' reports"
fi
npx tsx ops/line-length.ts || fail "lines over 160 characters: break them as ops/line-length.ts says"
npx tsc --noEmit || fail "type check failed"
info "format, lint and types are clean"
step "Running the tests"
npx vitest run "$@"
