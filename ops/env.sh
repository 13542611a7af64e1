# Sourced by the ops scripts: the one place that names a profile's ports, directories and URLs.
# Profiles: `run` (npm start) and `test` (npm test) use separate instances and data so a test run
# never touches the platform you are looking at.
SOLAR_PROFILE="${SOLAR_PROFILE:-run}"
case "$SOLAR_PROFILE" in
  run)  port_base=1 ;;
  test) port_base=2 ;;
  *) echo "error: SOLAR_PROFILE must be 'run' or 'test', got '$SOLAR_PROFILE'" >&2; exit 2 ;;
esac
SOLAR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SOLAR_DATA_DIR="$SOLAR_ROOT/.data/$SOLAR_PROFILE"
MQTT_PORT="${port_base}8830"
INFLUX_PORT="${port_base}8086"
INFLUX_RPC_PORT="${port_base}8088"
PG_PORT="5543${port_base}"
API_PORT="${port_base}8080"
INGEST_HTTP_PORT="${port_base}9464"
PLATFORM_ENV="$SOLAR_DATA_DIR/platform.env"
SECRETS_ENV="$SOLAR_DATA_DIR/secrets.env"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
fail() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
