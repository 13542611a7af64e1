#!/usr/bin/env bash
# `npm start`: sets up the `run` profile, then runs the platform in the foreground until Ctrl-C
# (ops/start.ts, supervised by ops/supervisor.ts). Setup comes first, in bash: it installs the
# Node.js and tsx the supervisor runs on.
set -euo pipefail
export SOLAR_PROFILE=run
bash "$(dirname "$0")/setup.sh"
source "$(dirname "$0")/env.sh"
set -a; source "$PLATFORM_ENV"; set +a
cd "$SOLAR_ROOT"
exec node --import tsx ops/start.ts
