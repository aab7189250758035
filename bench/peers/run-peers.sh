#!/usr/bin/env bash
# Peers side by side: fail2ban, CrowdSec and authwatch on ONE generated NGINX access log with
# planted 401 bursts. Installs the peers from Debian's packages when missing, runs each tool
# on the same file under /usr/bin/time -v (wall time and peak RSS from the same run), then
# bench/peers/compare.ts scores the alerts against the planted bursts and writes
# bench/out/peers/peers.md (embedded into docs/benchmarks.md by `npm run bench`).
#
#   bash bench/peers/run-peers.sh            # PEERS_LINES=200000 by default
#   PEERS_LINES=1500000 bash bench/peers/run-peers.sh
#   PEERS_CROWDSEC=lean|stock|both|none      # default both
#
# A tool that cannot be installed or run leaves OUT/<tool>.failed with the reason; the table
# then says "not measured" for it. Nothing here needs the network except apt-get.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/peers"
OUT="$ROOT/bench/out/peers"
LINES=${PEERS_LINES:-200000}
CS=${PEERS_CROWDSEC:-both}
log() { echo "peers: $*" >&2; }
mkdir -p "$OUT"
rm -f "$OUT"/*.failed "$OUT"/*-time.txt "$OUT"/*.json "$OUT"/*.ndjson "$OUT"/peers.md "$OUT"/install.txt

# -- 1. the peers, from Debian's packages ---------------------------------------------------
if ! command -v fail2ban-regex >/dev/null || ! command -v crowdsec >/dev/null || [ ! -x /usr/bin/time ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing fail2ban crowdsec time (apt-get)"
    { apt-cache policy fail2ban crowdsec; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends fail2ban crowdsec time; } >"$OUT/install.txt" 2>&1 \
      || log "apt-get reported errors (see $OUT/install.txt); continuing with whatever got unpacked"
  else
    log "fail2ban/crowdsec missing and not root: cannot install"
  fi
fi
# crowdsec's post-install registers with the Central API over the internet; offline it fails and
# leaves the package half-configured, but the binaries and the offline hub are unpacked.
{ dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\n' fail2ban crowdsec 2>/dev/null || true; } >"$OUT/versions.txt"

# -- 2. one log, known bursts ----------------------------------------------------------------
LOG="$OUT/access-$LINES.log"
if [ ! -s "$LOG" ] || [ ! -s "$OUT/planted-$LINES.json" ]; then
  log "generating $LINES lines"
  node --import tsx "$HERE/gen-nginx-log.ts" --lines "$LINES" --out "$OUT/gen-$LINES" >&2 || { log "generator failed"; exit 1; }
  mv "$OUT/gen-$LINES/access.log" "$LOG"; mv "$OUT/gen-$LINES/planted.json" "$OUT/planted-$LINES.json"; rmdir "$OUT/gen-$LINES"
fi
cp "$OUT/planted-$LINES.json" "$OUT/planted.json"
echo "$LOG" > "$OUT/logfile.txt"
START=$(/usr/bin/python3 -c "import json;print(int(json.load(open('$OUT/planted.json'))['startEpoch']))")
T="/usr/bin/time -v -o"

# -- 3. fail2ban: the regex filter, then the jail logic -----------------------------------------
if command -v fail2ban-regex >/dev/null; then
  log "fail2ban-regex"
  $T "$OUT/fail2ban-regex-time.txt" fail2ban-regex "$LOG" "$HERE/fail2ban/nginx-401.conf" >"$OUT/fail2ban-regex.txt" 2>&1 \
    || echo "fail2ban-regex exited non-zero: $(tail -3 "$OUT/fail2ban-regex.txt" | tr '\n' ' ')" >"$OUT/fail2ban-regex.failed"
  log "fail2ban jail replay (maxretry=20 findtime=60)"
  $T "$OUT/fail2ban-jail-time.txt" /usr/bin/python3 "$HERE/fail2ban/jail_replay.py" "$LOG" "$HERE/fail2ban/nginx-401.conf" 20 60 "$START" >"$OUT/fail2ban-jail.json" 2>"$OUT/fail2ban-jail.err" \
    || echo "jail_replay.py failed: $(tail -3 "$OUT/fail2ban-jail.err" | tr '\n' ' ')" >"$OUT/fail2ban-jail.failed"
else
  echo "fail2ban is not installed and could not be installed (see install.txt)" | tee "$OUT/fail2ban-regex.failed" >"$OUT/fail2ban-jail.failed"
fi

# -- 4. CrowdSec in time-machine (replay) mode ------------------------------------------------
for P in lean stock; do
  [ "$CS" = both ] || [ "$CS" = "$P" ] || continue
  if command -v crowdsec >/dev/null; then
    log "crowdsec ($P parser)"
    CROWDSEC_PARSER=$P bash "$HERE/crowdsec/run-crowdsec.sh" "$LOG" "$OUT" 2>"$OUT/crowdsec-$P.err" \
      || echo "run-crowdsec.sh failed: $(tail -3 "$OUT/crowdsec-$P.err" | tr '\n' ' ')" >"$OUT/crowdsec-$P.failed"
  else
    echo "crowdsec is not installed and could not be installed (see install.txt)" >"$OUT/crowdsec-$P.failed"
  fi
done

# -- 5. authwatch: oauth-401-burst alone, through the real CLI --------------------------------
RULES=$(mktemp -d /tmp/aw-bench-peer-rules.XXXXXX)
cp "$ROOT/rules/stable/oauth-401-burst.yml" "$RULES/"
# started as users start it: the command itself (plain node on the compiled dist/). npm install
# builds dist/; a checkout under edit may not have a current one.
if ! node --input-type=module -e "import { distIsFresh } from '$ROOT/bin/dist-freshness.js'; process.exit(distIsFresh('$ROOT') ? 0 : 1)"; then
  log "dist/ missing or older than src/: building it"
  node "$ROOT/scripts/build.js" --prepare >&2
fi
log "authwatch replay --input-format nginx (oauth-401-burst only)"
$T "$OUT/authwatch-time.txt" "$ROOT/bin/authwatch.js" replay --input-format nginx --rules "$RULES" "$LOG" >"$OUT/authwatch-alerts.ndjson" 2>"$OUT/authwatch.err" \
  || echo "authwatch replay failed: $(tail -3 "$OUT/authwatch.err" | tr '\n' ' ')" >"$OUT/authwatch.failed"
rm -rf "$RULES"
node --input-type=module -e "import { distIsFresh } from '$ROOT/bin/dist-freshness.js'; process.exit(distIsFresh('$ROOT') ? 0 : 1)" \
  || log "WARNING: src/ changed during the authwatch run: it may have run through tsx (slower start-up)"

# -- 6. score and tabulate ------------------------------------------------------------------
node --import tsx "$HERE/compare.ts" "$OUT"
