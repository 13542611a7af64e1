#!/usr/bin/env bash
# Keeps the logs the services write under a profile's data directory bounded: Mosquitto's (every
# connection is a line, and its packet-cut notices are read by ingest), nginx's access and error
# logs (a line per request), pgBackRest's (a few lines per archived WAL segment, in the backup
# directory), and in the development profiles PostgreSQL's, InfluxDB's, Prometheus',
# Alertmanager's and npm start's processes' (in production those log to journald).
# A log larger than LOG_ROTATE_BYTES (64 MiB) is copied to NAME.1, older copies move up to
# NAME.LOG_ROTATE_KEEP (3) and the oldest is dropped, and the log is emptied in place. Emptied,
# not renamed: every writer holds its log open for appending, so it goes on writing at the new end
# with no signal or restart (a line written between the copy and the emptying can be lost).
#   bash ops/rotate-logs.sh [DIR...]   (default: the profile's data directory and pgBackRest's log
#   directory; services.sh start runs it, npm start hourly, a production host hourly with
#   solar-rotate-logs.timer)
set -euo pipefail
source "$(dirname "$0")/env.sh"
dirs=("$@"); [ ${#dirs[@]} -gt 0 ] || dirs=("$SOLAR_DATA_DIR" "$SOLAR_BACKUP_DIR/pgbackrest/log")
limit=${LOG_ROTATE_BYTES:-67108864}
keep=${LOG_ROTATE_KEEP:-3}
[[ "$limit" =~ ^[1-9][0-9]*$ ]] || fail "LOG_ROTATE_BYTES must be a whole number of bytes, got '$limit'"
[[ "$keep" =~ ^[1-9][0-9]?$ ]] || fail "LOG_ROTATE_KEEP must be 1-99 copies, got '$keep'"
# Logs sit at most two levels down (mosquitto/mosquitto.log, logs/api.log); nothing inside a
# database's own directory is touched.
for dir in "${dirs[@]}"; do
  [ -d "$dir" ] || continue
  find "$dir" -maxdepth 2 -type f -name '*.log' -size +"${limit}c" -print0
done |
  while IFS= read -r -d '' log; do
    rm -f "$log.$keep"
    for ((n = keep - 1; n >= 1; n--)); do
      if [ -f "$log.$n" ]; then mv -f "$log.$n" "$log.$((n + 1))"; fi
    done
    cp -p "$log" "$log.1"
    truncate -s 0 "$log"
    info "$log: rotated ($(stat -c %s "$log.1") bytes to ${log##*/}.1, $keep kept)"
  done
