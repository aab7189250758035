#!/usr/bin/env bash
# Peers side by side: fail2ban, CrowdSec and authwatch on ONE generated NGINX access log with
# planted 401 bursts. Installs the peers from Debian's packages when missing, then runs the
# tools in ROUNDS: each round runs every tool once on the same file under /usr/bin/time -v
# (wall time and peak RSS from the same run), one after the other, so a slow patch of the
# shared machine hits every tool of that round alike. bench/peers/compare.ts then scores each
# round's alerts against the planted bursts, takes medians and per-round ratios, and writes
# OUT/peers.md (embedded into docs/benchmarks.md by `npm run bench`).
#
#   bash bench/peers/run-peers.sh            # PEERS_LINES=200000, PEERS_RUNS=3 by default
#   PEERS_LINES=1500000 bash bench/peers/run-peers.sh
#   PEERS_RUNS=5                             # rounds of the cheap tools (fail2ban, CrowdSec lean, authwatch)
#   PEERS_STOCK_RUNS=1                       # rounds that also run CrowdSec's stock parsers (~200 s each
#                                            #   at 200k lines); they are the first rounds, at most PEERS_RUNS
#   PEERS_CROWDSEC=lean|stock|both|none      # default both
#   PEERS_OUT=/tmp/peers                     # output dir (default bench/out/peers, which `npm run bench` reads)
#
# Per round r, OUT holds <key>-time-<r>.txt (the /usr/bin/time -v report) and the tool's output
# (fail2ban-regex-<r>.txt, fail2ban-jail-<r>.json, crowdsec-<p>-alerts-<r>.json,
# authwatch-alerts-<r>.ndjson; stderr in <key>-<r>.err). A tool that cannot be installed or
# run leaves OUT/<key>.failed with the reason and is not run again in later rounds; the table
# then says "not measured" for it. Nothing here needs the network except apt-get.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HERE="$ROOT/bench/peers"
OUT=${PEERS_OUT:-"$ROOT/bench/out/peers"}
LINES=${PEERS_LINES:-200000}
CS=${PEERS_CROWDSEC:-both}
RUNS=${PEERS_RUNS:-3}
STOCK_RUNS=${PEERS_STOCK_RUNS:-1}
log() { echo "peers: $*" >&2; }
case "$RUNS" in '' | *[!0-9]* | 0) log "PEERS_RUNS must be a positive integer (got '$RUNS')"; exit 2 ;; esac
case "$STOCK_RUNS" in '' | *[!0-9]*) log "PEERS_STOCK_RUNS must be a non-negative integer (got '$STOCK_RUNS')"; exit 2 ;; esac
if [ "$STOCK_RUNS" -gt "$RUNS" ]; then
  log "PEERS_STOCK_RUNS=$STOCK_RUNS > PEERS_RUNS=$RUNS: CrowdSec stock runs $RUNS times (its ratio needs authwatch in the same round)"
  STOCK_RUNS=$RUNS
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# the previous run's results (single-run names of older versions too); the generated logs and
# their planted-<lines>.json are kept for reuse
rm -f "$OUT"/*.failed "$OUT"/*-time*.txt "$OUT"/*.err "$OUT"/fail2ban-regex*.txt "$OUT"/fail2ban-jail*.json \
  "$OUT"/crowdsec-*-alerts*.json "$OUT"/authwatch-alerts*.ndjson "$OUT"/planted.json "$OUT"/rounds.json "$OUT"/peers.md "$OUT"/install.txt

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

# -- 3. what can run -------------------------------------------------------------------------
if ! command -v fail2ban-regex >/dev/null; then
  echo "fail2ban is not installed and could not be installed (see install.txt)" | tee "$OUT/fail2ban-regex.failed" >"$OUT/fail2ban-jail.failed"
fi
CS_PARSERS=()
for P in lean stock; do
  [ "$CS" = both ] || [ "$CS" = "$P" ] || continue
  [ "$P" = stock ] && [ "$STOCK_RUNS" -eq 0 ] && continue
  CS_PARSERS+=("$P")
  command -v crowdsec >/dev/null || echo "crowdsec is not installed and could not be installed (see install.txt)" >"$OUT/crowdsec-$P.failed"
done
# authwatch, as users start it: the command itself (plain node on the compiled dist/). npm
# install builds dist/; a checkout under edit may not have a current one.
dist_fresh() { node --input-type=module -e "import { distIsFresh } from '$ROOT/bin/dist-freshness.js'; process.exit(distIsFresh('$ROOT') ? 0 : 1)"; }
if ! dist_fresh; then
  log "dist/ missing or older than src/: building it"
  node "$ROOT/scripts/build.js" --prepare >&2 || echo "scripts/build.js failed: dist/ could not be built" >"$OUT/authwatch.failed"
fi
RULES=$(mktemp -d /tmp/aw-bench-peer-rules.XXXXXX)
trap 'rm -rf "$RULES"' EXIT
cp "$ROOT/rules/stable/oauth-401-burst.yml" "$RULES/"
echo "{\"runs\": $RUNS, \"stockRuns\": $STOCK_RUNS, \"order\": \"fail2ban-regex, fail2ban-jail, crowdsec-lean, authwatch, crowdsec-stock\"}" >"$OUT/rounds.json"

# runs KEY: false once KEY has failed (a failing tool is not retried in later rounds)
runs() { [ ! -e "$OUT/$1.failed" ]; }
# fail KEY ROUND WHAT ERRFILE: records why KEY failed, with the round
fail() { echo "round $2: $3: $(tail -3 "$4" 2>/dev/null | tr '\n' ' ')" >"$OUT/$1.failed"; }

# crowdsec_round PARSER ROUND: CrowdSec in time-machine (replay) mode; run-crowdsec.sh writes
# crowdsec-<p>-{time.txt,alerts.json}, renamed here to the round's files
crowdsec_round() {
  local P=$1 R=$2 K="crowdsec-$1"
  runs "$K" || return 0
  log "  crowdsec ($P parser)"
  rm -f "$OUT/$K-time.txt" "$OUT/$K-alerts.json"
  if CROWDSEC_PARSER=$P bash "$HERE/crowdsec/run-crowdsec.sh" "$LOG" "$OUT" 2>"$OUT/$K-$R.err"; then
    mv "$OUT/$K-time.txt" "$OUT/$K-time-$R.txt"
    mv "$OUT/$K-alerts.json" "$OUT/$K-alerts-$R.json"
  else
    fail "$K" "$R" "run-crowdsec.sh failed" "$OUT/$K-$R.err"
  fi
}

# -- 4. the rounds ---------------------------------------------------------------------------
for R in $(seq 1 "$RUNS"); do
  log "round $R/$RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
  # fail2ban: the regex filter, then the jail logic
  if runs fail2ban-regex; then
    log "  fail2ban-regex"
    $T "$OUT/fail2ban-regex-time-$R.txt" fail2ban-regex "$LOG" "$HERE/fail2ban/nginx-401.conf" >"$OUT/fail2ban-regex-$R.txt" 2>&1 \
      || fail fail2ban-regex "$R" "fail2ban-regex exited non-zero" "$OUT/fail2ban-regex-$R.txt"
  fi
  if runs fail2ban-jail; then
    log "  fail2ban jail replay (maxretry=20 findtime=60)"
    $T "$OUT/fail2ban-jail-time-$R.txt" /usr/bin/python3 "$HERE/fail2ban/jail_replay.py" "$LOG" "$HERE/fail2ban/nginx-401.conf" 20 60 "$START" >"$OUT/fail2ban-jail-$R.json" 2>"$OUT/fail2ban-jail-$R.err" \
      || fail fail2ban-jail "$R" "jail_replay.py failed" "$OUT/fail2ban-jail-$R.err"
  fi
  [[ " ${CS_PARSERS[*]-} " == *" lean "* ]] && crowdsec_round lean "$R"
  # authwatch: oauth-401-burst alone, through the real CLI
  if runs authwatch; then
    log "  authwatch replay --input-format nginx (oauth-401-burst only)"
    $T "$OUT/authwatch-time-$R.txt" "$ROOT/bin/authwatch.js" replay --input-format nginx --rules "$RULES" "$LOG" >"$OUT/authwatch-alerts-$R.ndjson" 2>"$OUT/authwatch-$R.err" \
      || fail authwatch "$R" "authwatch replay failed" "$OUT/authwatch-$R.err"
    dist_fresh || log "  WARNING: src/ changed during the authwatch run: it may have run through tsx (slower start-up)"
  fi
  # the slow one last, and only in the first PEERS_STOCK_RUNS rounds
  [[ " ${CS_PARSERS[*]-} " == *" stock "* ]] && [ "$R" -le "$STOCK_RUNS" ] && crowdsec_round stock "$R"
done

# -- 5. score and tabulate ------------------------------------------------------------------
node --import tsx "$HERE/compare.ts" "$OUT"
