#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, no ZooKeeper) for development, tests and CI.
#
#   scripts/kafka.sh start    fetch Kafka from Maven Central (once, cached in .kafka/lib), format a fresh
#                             KRaft log dir, start the broker on 127.0.0.1, wait until it answers a
#                             metadata request, print the bootstrap address (also in .kafka/bootstrap)
#   scripts/kafka.sh stop     stop it by its pid (TERM, then KILL after a bound)
#   scripts/kafka.sh status   print the bootstrap address if running (exit 0), else exit 3
#
# Environment: AUTHWATCH_KAFKA_DIR (default <repo>/.kafka), AUTHWATCH_KAFKA_PORT (default 19092, or the
# next free port when busy). The version is pinned in scripts/kafka/pom.xml (3.9.x; docs/kafka.md says why).
# The broker is ephemeral: every start formats an empty log dir, so tests never see yesterday's topics.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
KDIR="${AUTHWATCH_KAFKA_DIR:-$ROOT/.kafka}"
LIB="$KDIR/lib"
POM="$ROOT/scripts/kafka/pom.xml"
PIDFILE="$KDIR/broker.pid"
BOOTFILE="$KDIR/bootstrap"
LOG="$KDIR/broker.log"
READY_TIMEOUT_S=90
STOP_TIMEOUT_S=30

log() { printf 'kafka.sh: %s\n' "$*" >&2; }

pom_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM"; }

is_running() {
  [ -f "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() {
  local p="$1" i
  for ((i = 0; i < 200; i++)); do
    if ! port_busy "$p"; then echo "$p"; return 0; fi
    p=$((p + 1))
  done
  log "no free port found from $1"
  return 1
}

fetch() {
  local want
  want="$(pom_version)"
  if [ -f "$LIB/.complete" ] && [ "$(cat "$LIB/.complete")" = "$want" ]; then return 0; fi
  command -v mvn >/dev/null || { log "mvn is required to fetch Kafka $want from Maven Central (apt-get install maven)"; return 1; }
  log "fetching Apache Kafka $want from Maven Central into $LIB (once)"
  rm -rf "$LIB"
  mkdir -p "$LIB"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB" >&2
  echo "$want" >"$LIB/.complete"
}

write_config() {
  local port="$1" cport="$2"
  cat >"$KDIR/server.properties" <<EOF
# written by scripts/kafka.sh: single-node KRaft broker for development and tests only
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KDIR/data
# authwatch creates its topics itself (KafkaBus.ensureTopics) with the partition count it needs;
# a typo in a topic name should fail loudly, not create a new topic.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
# tests start and stop consumer groups all the time: no 3 s wait before the first rebalance
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
log.retention.hours=24
log.segment.bytes=67108864
EOF
  cat >"$KDIR/log4j.properties" <<'EOF'
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaRaftServer=INFO
log4j.logger.kafka.Kafka=INFO
EOF
}

# Ready = the port accepts connections and a Kafka metadata request is answered (kafkajs admin).
wait_ready() {
  local boot="$1" pid="$2" deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "broker exited during start-up; last lines of $LOG:"
      tail -n 30 "$LOG" >&2 || true
      return 1
    fi
    if port_busy "${boot##*:}" && node "$ROOT/scripts/kafka/ready.mjs" "$boot" 2>/dev/null; then return 0; fi
    sleep 1
  done
  log "broker not ready after ${READY_TIMEOUT_S}s; last lines of $LOG:"
  tail -n 30 "$LOG" >&2 || true
  return 1
}

start() {
  mkdir -p "$KDIR"
  exec 9>"$KDIR/.lock"
  flock -w 300 9 || { log "another kafka.sh holds $KDIR/.lock"; return 1; }
  if is_running && [ -f "$BOOTFILE" ]; then
    cat "$BOOTFILE"
    return 0
  fi
  command -v java >/dev/null || { log "java (17+) is required (apt-get install default-jre-headless)"; return 1; }
  fetch
  local port cport cluster
  port="$(free_port "${AUTHWATCH_KAFKA_PORT:-19092}")"
  cport="$(free_port $((port + 1)))"
  rm -rf "$KDIR/data" "$BOOTFILE"
  write_config "$port" "$cport"
  # a KRaft cluster id is 16 random bytes in base64url, as `kafka-storage random-uuid` prints
  cluster="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
  java -cp "$LIB/*" -Dlog4j.configuration="file:$KDIR/log4j.properties" \
    kafka.tools.StorageTool format -t "$cluster" -c "$KDIR/server.properties" >>"$LOG" 2>&1 \
    || { log "formatting the KRaft log dir failed; see $LOG"; tail -n 20 "$LOG" >&2; return 1; }
  : >"$LOG"
  nohup java -Xmx512m -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$KDIR/log4j.properties" -Dkafka.logs.dir="$KDIR" \
    -cp "$LIB/*" kafka.Kafka "$KDIR/server.properties" >>"$LOG" 2>&1 </dev/null &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  if ! wait_ready "127.0.0.1:$port" "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    return 1
  fi
  echo "127.0.0.1:$port" >"$BOOTFILE"
  log "broker ready (pid $pid, log $LOG)"
  echo "127.0.0.1:$port"
}

stop() {
  if ! is_running; then
    rm -f "$PIDFILE" "$BOOTFILE"
    log "not running"
    return 0
  fi
  local pid deadline
  pid="$(cat "$PIDFILE")"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + STOP_TIMEOUT_S))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker $pid still running after ${STOP_TIMEOUT_S}s: KILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE" "$BOOTFILE"
  log "stopped (pid $pid)"
}

status() {
  if is_running && [ -f "$BOOTFILE" ]; then
    cat "$BOOTFILE"
    return 0
  fi
  log "not running"
  return 3
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
