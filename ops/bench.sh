#!/usr/bin/env bash
# `npm run bench:NAME`: runs a benchmark (its command: the arguments) against the test profile's
# real services, set up and started if they are not, from an empty broker as `npm test` does.
set -euo pipefail
export SOLAR_PROFILE=test
source "$(dirname "$0")/env.sh"
empty_test_broker >&2 # stdout carries only the benchmark's BENCH lines
exec bash "$SOLAR_ROOT/ops/with-services.sh" "$@"
