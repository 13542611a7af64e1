#!/usr/bin/env bash
# What `npm start` prints once the platform runs: what to open and how to sign in. The one place
# for these lines; add yours here. Needs the profile's environment (start.sh exports it).
set -euo pipefail
source "$(dirname "$0")/env.sh"

info "API and its docs:   http://127.0.0.1:$API_PORT/docs"
info "beneficiary portal: http://127.0.0.1:$API_PORT/portal   (Persian; sign in with a national code and PIN below)"
info "through TLS (nginx): $PROXY_URL/portal and $PROXY_URL/docs   (development CA: $PROXY_CA_FILE)"
if [ -f "$SOLAR_DATA_DIR/first-admin-password" ]; then
  info "staff admin:        admin, password: cat $SOLAR_DATA_DIR/first-admin-password"
  info "                    (POST /auth/staff/sign-in, then Authorize in the docs with the token)"
fi
if [ -f "$SOLAR_DATA_DIR/demo/logins.json" ]; then
  node -e '
    for (const l of JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8")))
      console.log(`    demo beneficiary:   national code ${l.nationalCode}, PIN ${l.pin} (${l.installation})`);
  ' "$SOLAR_DATA_DIR/demo/logins.json"
  info "                    (in the portal above, or POST /auth/beneficiary/sign-in, then GET /me/statements)"
fi
info "billing:            npm run billing -- show   (every month; show MONTH for one)"
info "alerts:             evaluated every ${ALERTS_INTERVAL_SECONDS:-300} s (GET /alerts; npm run alerts -- evaluate)"
info "ingest health:      http://127.0.0.1:$INGEST_HTTP_PORT/healthz"
info "ingest metrics:     http://127.0.0.1:$INGEST_HTTP_PORT/metrics"
info "InfluxDB:           $INFLUX_URL (database ${INFLUX_DATABASE:-solar})"
info "Prometheus:         $PROMETHEUS_URL (scrapes ingest; Grafana: dashboards/README.md)"
# As InfluxDB's reader: the password comes from the environment file, is never printed, and goes to
# curl on stdin (printf is a shell builtin), not in its arguments where other local users see it.
cat <<CMD | sed 's/^/    /'
readings stored:    (set -a; . '$PLATFORM_ENV'; printf 'user = "%s:%s"\n' "\$INFLUX_READER_USERNAME" "\$INFLUX_READER_PASSWORD" \
| curl -s -K - "\$INFLUX_URL/query?db=\$INFLUX_DATABASE" --data-urlencode 'q=SELECT count(energy_wh_total) FROM telemetry WHERE time > now() - 5m')
CMD
