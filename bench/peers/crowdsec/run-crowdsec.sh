#!/usr/bin/env bash
# Replays one NGINX access log through CrowdSec (Debian's crowdsec package) in time-machine
# mode with the stock hub parsers shipped in the package (/usr/share/crowdsec/hub:
# syslog-logs/non-syslog, nginx-logs, dateparse-enrich) and our 401-burst scenario, in a
# throw-away config dir (CROWDSEC_PARSER=lean swaps nginx-logs for our minimal
# nginx-401-lean.yaml: CrowdSec's best case) with its own SQLite database and a local API on loopback. Then lists
# the alerts with cscli.
#
#   run-crowdsec.sh LOG OUTDIR [scenario.yaml...]
#
# Writes OUTDIR/crowdsec-$CROWDSEC_PARSER-time.txt (/usr/bin/time -v of the crowdsec process, wall time and
# max RSS) and OUTDIR/crowdsec-$CROWDSEC_PARSER-alerts.json
# (read from the SQLite database: the local API lives inside the crowdsec process and is gone
# once the replay ends). No network: the Central API is disabled (-no-capi).
set -euo pipefail
LOG=$(readlink -f "$1"); OUT=$(readlink -f "$2"); shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
SCENARIOS=("$@"); [ ${#SCENARIOS[@]} -eq 0 ] && SCENARIOS=("$HERE/http-401-burst.yaml")
HUB=/usr/share/crowdsec/hub
W=$(mktemp -d /tmp/aw-bench-crowdsec.XXXXXX)
trap '[ -n "${KEEP_WORKDIR:-}" ] || rm -rf "$W"' EXIT
mkdir -p "$W"/config/{parsers/s00-raw,parsers/s01-parse,parsers/s02-enrich,scenarios,postoverflows/s01-whitelist} "$W/data" "$OUT"
cp "$HUB/parsers/s00-raw/crowdsecurity/syslog-logs.yaml" "$W/config/parsers/s00-raw/"
if [ "${CROWDSEC_PARSER:-stock}" = lean ]; then
  cp "$HERE/nginx-401-lean.yaml" "$W/config/parsers/s01-parse/"
else
  cp "$HUB/parsers/s01-parse/crowdsecurity/nginx-logs.yaml" "$W/config/parsers/s01-parse/"
fi
cp "$HUB/parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml" "$W/config/parsers/s02-enrich/"
for s in "${SCENARIOS[@]}"; do cp "$s" "$W/config/scenarios/"; done
cp -r /etc/crowdsec/patterns "$W/config/patterns"
cp /etc/crowdsec/profiles.yaml "$W/config/profiles.yaml"
printf 'simulation: off\nexclusions: []\n' > "$W/config/simulation.yaml"
: > "$W/config/acquis.yaml"
PORT=$(( 20000 + RANDOM % 20000 ))
cat > "$W/config/config.yaml" <<YAML
common:
  daemonize: false
  log_media: file
  log_level: warning
  log_dir: $W/
  working_dir: .
config_paths:
  config_dir: $W/config/
  data_dir: $W/data/
  simulation_path: $W/config/simulation.yaml
  hub_dir: $W/config/hub/
  index_path: $W/config/hub/.index.json
  notification_dir: $W/config/notifications/
  plugin_dir: /usr/lib/crowdsec/plugins/
crowdsec_service:
  acquisition_path: $W/config/acquis.yaml
  parser_routines: ${CROWDSEC_PARSER_ROUTINES:-1}
cscli:
  output: json
db_config:
  log_level: warning
  type: sqlite
  db_path: $W/data/crowdsec.db
  flush:
    max_items: 100000
api:
  client:
    insecure_skip_verify: false
    credentials_path: $W/config/local_api_credentials.yaml
  server:
    log_level: warning
    listen_uri: 127.0.0.1:$PORT
    profiles_path: $W/config/profiles.yaml
    trusted_ips:
      - "127.0.0.1"
      - "::1"
prometheus:
  enabled: false
YAML
mkdir -p "$W/config/hub" && echo '{"parsers":{},"scenarios":{},"postoverflows":{},"collections":{}}' > "$W/config/hub/.index.json"
cscli -c "$W/config/config.yaml" machines add bench --password "bench-$(date +%s%N)" -f "$W/config/local_api_credentials.yaml" --force >/dev/null 2>"$W/cscli.err" \
  || { cat "$W/cscli.err" >&2; exit 1; }
sed -i "s#^url:.*#url: http://127.0.0.1:$PORT#" "$W/config/local_api_credentials.yaml"
P=${CROWDSEC_PARSER:-stock}
/usr/bin/time -v -o "$OUT/crowdsec-$P-time.txt" \
  crowdsec -c "$W/config/config.yaml" -dsn "file://$LOG" -type nginx -no-capi >"$W/crowdsec.out" 2>&1 \
  || { echo "crowdsec failed:" >&2; tail -20 "$W/crowdsec.out" "$W"/crowdsec.log >&2 2>/dev/null; exit 1; }
/usr/bin/python3 - "$W/data/crowdsec.db" > "$OUT/crowdsec-$P-alerts.json" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
rows = db.execute("select scenario, source_value, events_count, started_at, stopped_at from alerts where scenario not like 'update%'")
print(json.dumps([dict(scenario=r[0], ip=r[1], events=r[2], started_at=r[3], stopped_at=r[4]) for r in rows]))
PY
grep -hiE 'level=(error|fatal)' "$W"/*.log 2>/dev/null | tail -5 >&2 || true
