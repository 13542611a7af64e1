#!/usr/bin/env bash
# Takes an API process out of nginx's rotation, or puts it back, for a rolling restart
# (docs/upgrade.md): nginx knows nothing of a process's readiness (no active health checks in open
# source nginx), and a process that closes its port while nginx still opens connections to it
# resets those nginx has already sent a request on (a POST then fails: nginx never sends one twice).
#   bash ops/proxy.sh out PORT   # nginx sends it nothing new; returns once no nginx worker can
#   bash ops/proxy.sh in PORT    # back in rotation (once the process is ready: /readyz)
#   bash ops/proxy.sh show       # the API processes and which are out
set -euo pipefail
source "$(dirname "$0")/env.sh"
ng="$SOLAR_DATA_DIR/nginx"
upstream="$ng/api-upstream.conf"
[ -f "$upstream" ] || fail "no $upstream: run setup for profile $SOLAR_PROFILE"
action=${1:-}; port=${2:-}
case $action in
  show) cat "$upstream"; exit 0 ;;
  out|in) [[ "$port" =~ ^[0-9]+$ ]] && grep -q "^ *server 127.0.0.1:$port " "$upstream" \
            || fail "$port is not one of nginx's API processes (API_PORTS): $(grep -o '127.0.0.1:[0-9]*' "$upstream" | cut -d: -f2 | paste -sd,)" ;;
  *) fail "usage: ops/proxy.sh out PORT | in PORT | show" ;;
esac
what="back in nginx's rotation"; [ "$action" = out ] && what="out of nginx's rotation"
if [ "$action" = out ]; then
  grep -v "127.0.0.1:$port " "$upstream" | grep -q '^ *server .*max_fails=0;$' \
    || fail "$port is the last API process in rotation: taking it out would leave nginx nothing to send to"
  sed -i "s/^\( *server 127.0.0.1:$port max_fails=0\)\( down\)\?;/\1 down;/" "$upstream"
else
  sed -i "s/^\( *server 127.0.0.1:$port max_fails=0\) down;/\1;/" "$upstream"
fi
nginx -t -q -c "$ng/nginx.conf" -p "$ng/" -e "$ng/error.log" || fail "nginx refuses the change (see above)"
master=$(cat "$ng/nginx.pid")
old_workers=$(ps --ppid "$master" -o pid= | tr -d ' ')
kill -HUP "$master"
# The old workers finish what they proxy and exit; until then they may still open connections to
# the process. A request slower than 30 s keeps its worker longer: said, not waited for.
for _ in $(seq 300); do
  alive=0
  for pid in $old_workers; do [ -d "/proc/$pid" ] && [ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$master" ] && alive=1; done
  [ "$alive" = 0 ] && { info "API process $port: $what"; exit 0; }
  sleep 0.1
done
info "API process $port: $what; an old nginx worker still finishes a slow request"
