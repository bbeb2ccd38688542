#!/usr/bin/env bash
# The cluster's load tests: nodes over one real redis-server, all on this machine, each scenario on freshly
# started nodes, results into loadtests/results/cluster-*.{md,json} (and the Redis figures into
# loadtests/results/cluster-redis.md). docs/benchmarks.md ("Cluster") quotes them; nothing here rewrites it.
#
#   loadtests/run-cluster.sh                 # everything (about 15 minutes on a 2-core box)
#   ONLY="fanout chat" loadtests/run-cluster.sh
#
#   fanout  cross-node fan-out: one room of FANOUT_MEMBERS members, one node against three nodes (members spread
#           evenly, the sender on the first), alternated ROUNDS times; server CPU per delivery summed over the
#           nodes, Redis commands per say from INFO commandstats, Redis memory per kept message
#   chat    2,000 connections on one node, then on three nodes, 1 message/s each, in 100 rooms with members on every node
#   scale   SCALE_NODES nodes (default 6), idle connections ramped to SCALE_CONNECTIONS (default 96,000) in rooms
#           whose members sit on every node (997 rooms, a prime: connection i goes to node i mod 6 and room
#           i mod 997); memory per node summed, Redis memory per connected user
#
# Not part of CI. Like run-all.sh it refuses local changes to src/ or loadtests/ChatHub.LoadTests (figures name
# their commit; ALLOW_DIRTY=1 runs anyway). It kills every process it started, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "$(git status --porcelain -- src loadtests/ChatHub.LoadTests)" && "${ALLOW_DIRTY:-0}" != 1 ]]; then
  echo "run-cluster.sh: src/ or loadtests/ChatHub.LoadTests has local changes; commit them first (figures name their commit)." >&2
  git status --short -- src loadtests/ChatHub.LoadTests >&2
  exit 2
fi

ONLY="${ONLY:-fanout chat scale}"
ROUNDS="${ROUNDS:-2}"
FANOUT_MEMBERS="${FANOUT_MEMBERS:-500}"
SCALE_NODES="${SCALE_NODES:-6}"
SCALE_CONNECTIONS="${SCALE_CONNECTIONS:-96000}"
RESULTS=loadtests/results
TMP="$RESULTS/tmp"            # node and Redis logs, Redis data; git-ignored
REDIS_PORT="${REDIS_PORT:-6399}"
SERVER_DLL=src/ChatHub.Server/bin/Release/net10.0/ChatHub.Server.dll
LOADTESTS=(dotnet loadtests/ChatHub.LoadTests/bin/Release/net10.0/ChatHub.LoadTests.dll)
REDIS_REPORT="$RESULTS/cluster-redis.md"
# Senders beyond the default 20 messages/s; thousands of connections from a few 127.0.0.x addresses. Operations
# get 10 s instead of 2 s: on a box whose two cores are shared, a node may wait seconds for a thread.
NODE_ARGS=(--ChatHub:Redis="127.0.0.1:$REDIS_PORT" --ChatHub:Cluster:OperationTimeout=00:00:10
  --ChatHub:Limits:MessagesPerSecond=1000000 --ChatHub:Limits:MessageBurst=1000000
  --ChatHub:Security:PerIp:MaxConnections=0 --ChatHub:Security:PerIp:HandshakesPerSecond=0
  --Logging:LogLevel:Default=Warning)

ulimit -n "$(ulimit -Hn)"
mkdir -p "$TMP"

echo "== build (Release)"
dotnet build src/ChatHub.Server/ChatHub.Server.csproj -c Release -nologo -v q
dotnet build loadtests/ChatHub.LoadTests/ChatHub.LoadTests.csproj -c Release -nologo -v q

STARTED_PIDS=()
cleanup() {
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

cli() { redis-cli -p "$REDIS_PORT" "$@"; }

# A fresh Redis (AOF, fsync every second, as docs/cluster.md recommends) for each scenario.
start_redis() {
  rm -rf "$TMP/redis" && mkdir -p "$TMP/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$TMP/redis" --save "" --appendonly yes \
    --appendfsync everysec --daemonize no --protected-mode no >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  STARTED_PIDS+=("$REDIS_PID")
  for _ in $(seq 1 100); do
    if [[ "$(cli ping 2>/dev/null)" == PONG ]]; then return 0; fi
    sleep 0.1
  done
  echo "redis-server on :$REDIS_PORT did not start; see $TMP/redis.log" >&2
  return 1
}

stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

# start_nodes COUNT  -> NODE_PIDS (array), NODE_URLS (--url ... pairs), NODE_PID_LIST (comma-separated)
start_nodes() {
  NODE_PIDS=(); NODE_URLS=()
  for i in $(seq 1 "$1"); do
    local port=$((5300 + i))
    dotnet "$SERVER_DLL" --urls "http://127.0.0.1:$port" "${NODE_ARGS[@]}" >"$TMP/node-$port.log" 2>&1 &
    NODE_PIDS+=($!); STARTED_PIDS+=($!); NODE_URLS+=(--url "http://127.0.0.1:$port/")
  done
  for i in $(seq 1 "$1"); do
    local port=$((5300 + i)) ready=0
    for _ in $(seq 1 300); do
      if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then ready=1; break; fi
      sleep 0.2
    done
    if (( ! ready )); then echo "node :$port did not become ready; see $TMP/node-$port.log" >&2; return 1; fi
  done
  NODE_PID_LIST=$(IFS=,; echo "${NODE_PIDS[*]}")
  echo "   $1 node(s) ready: pids $NODE_PID_LIST"
}

stop_nodes() { for pid in "${NODE_PIDS[@]}"; do stop_pid "$pid"; done; }

wants() { [[ " $ONLY " == *" $1 "* ]]; }

STATUS=0
run() { "${LOADTESTS[@]}" "$@" --out "$RESULTS" --note "cluster over one Redis $(redis-server --version | grep -o 'v=[0-9.]*')" || STATUS=1; }

# Redis's own counters for what a run did: calls per command, CPU, memory.
commandstats() { cli info commandstats | tr -d '\r' | grep -E '^cmdstat_(evalsha|eval|publish|xadd|xrange|hset|hget|smembers|zadd)[:]' || true; }
used_memory() { cli info memory | tr -d '\r' | sed -n 's/^used_memory://p'; }
redis_cpu() { cli info cpu | tr -d '\r' | sed -n 's/^used_cpu_\(sys\|user\)://p' | paste -sd+ | bc; }
# report_redis HEADING [LINE]: a section of the Redis report with the run's command counters
report_redis() {
  { echo "## $1"; echo; [[ -n "${2:-}" ]] && { echo "$2"; echo; }; echo '```'; commandstats; echo '```'; echo; } >>"$REDIS_REPORT"
}

{
  echo "# Redis figures of loadtests/run-cluster.sh"
  echo
  echo "Commit $(git rev-parse --short HEAD)$( [[ -n "$(git status --porcelain -- src loadtests/ChatHub.LoadTests)" ]] && echo ' (with local changes: not for the docs)'), $(redis-server --version | grep -o 'v=[0-9.]*'), $(date -u '+%Y-%m-%d %H:%M UTC')."
  echo
} >"$REDIS_REPORT"

if wants fanout; then
  for round in $(seq 1 "$ROUNDS"); do
    for nodes in 1 3; do
      echo "== fanout round $round: $nodes node(s), one room of $FANOUT_MEMBERS members"
      start_redis
      start_nodes "$nodes"
      room="fanout-n$nodes-r$round"
      cli config resetstat >/dev/null
      cpu_before=$(redis_cpu)
      run fanout --label "cluster-fanout-n$nodes-r$round" "${NODE_URLS[@]}" --server-pid "$NODE_PID_LIST" \
        --room "$room" --members "$FANOUT_MEMBERS" --messages 5000 --warmup-messages 500 --window 32 --max-seconds 600
      cpu_after=$(redis_cpu)
      kept=$(cli xlen "chathub:{$room}:log")
      stream_bytes=$(cli memory usage "chathub:{$room}:log" samples 0)
      report_redis "fanout, $nodes node(s), round $round (room $room, $FANOUT_MEMBERS members, 5000 messages)" \
        "Redis CPU during the run: $(echo "$cpu_after - $cpu_before" | bc) s. Stream: $kept messages kept, MEMORY USAGE $stream_bytes bytes ($(( stream_bytes / (kept > 0 ? kept : 1) )) bytes per kept message, 64-character texts)."
      stop_nodes
      stop_pid "$REDIS_PID"
    done
  done
fi

if wants chat; then
  # One node over the same Redis first, with the same load: the single-node figure beside the cluster's, same run.
  for nodes in 1 3; do
    label=cluster-chat-2k; [[ $nodes == 1 ]] && label=cluster-chat-2k-n1
    echo "== chat: 2,000 connections on $nodes node(s), 1 message/s each, 100 rooms"
    start_redis
    start_nodes "$nodes"
    cli config resetstat >/dev/null
    run chat --label "$label" "${NODE_URLS[@]}" --server-pid "$NODE_PID_LIST" \
      --connections 2000 --rooms 100 --rate 1 --seconds 30 --warmup-seconds 5 --drain-seconds 15
    report_redis "chat, $nodes node(s), 2,000 connections in 100 rooms at 1 message/s each"
    stop_nodes
    stop_pid "$REDIS_PID"
  done
fi

if wants scale; then
  echo "== scale: $SCALE_NODES nodes, 0 -> $SCALE_CONNECTIONS idle connections in 997 rooms"
  start_redis
  # Six nodes and the load generator's workers on two shared cores: a node's heartbeat can be seconds late while it
  # accepts thousands of connections, and the others would take it for dead (it re-asserts itself at its next beat,
  # but that churn is not what this run measures). A longer NodeTimeout keeps the ramp about memory.
  NODE_ARGS+=(--ChatHub:Cluster:NodeTimeout="${SCALE_NODE_TIMEOUT:-00:01:00}")
  start_nodes "$SCALE_NODES"
  # Redis's memory against the connections the nodes hold, every 5 s while the ramp runs: connected users cost
  # Redis their name key, the node's name set entry and the room membership fields.
  base_memory=$(used_memory)
  (
    while true; do
      held=0
      for i in $(seq 1 "$SCALE_NODES"); do
        n=$(curl -sf "http://127.0.0.1:$((5300 + i))/api/stats" | jq -r '.connections' 2>/dev/null || echo 0)
        held=$(( held + ${n:-0} ))
      done
      echo "$held $(used_memory)"
      sleep 5
    done
  ) >"$TMP/scale-redis-memory.txt" &
  SAMPLER_PID=$!
  STARTED_PIDS+=("$SAMPLER_PID")
  step=$(( SCALE_CONNECTIONS / 6 ))
  run connections --label cluster-scale "${NODE_URLS[@]}" --server-pid "$NODE_PID_LIST" --rooms 997 \
    --steps "0,$step,$((2 * step)),$((3 * step)),$((4 * step)),$((5 * step)),$SCALE_CONNECTIONS" \
    --settle-seconds 120 --connect-timeout-seconds 60 --max-seconds 1500 --plot docs/img/cluster-connections-memory.png
  stop_pid "$SAMPLER_PID"
  read -r held_max memory_max < <(sort -n -k1,1 -k2,2 "$TMP/scale-redis-memory.txt" | tail -1)
  {
    echo "## scale, $SCALE_NODES nodes, up to $SCALE_CONNECTIONS idle connections in 997 rooms"
    echo
    echo "Redis used_memory: $base_memory bytes with the nodes up and no connection, $memory_max bytes with $held_max connections held: $(( (memory_max - base_memory) / (held_max > 0 ? held_max : 1) )) bytes per connected user (name key, the node's name set, two membership hash fields). Samples (connections held, used_memory) every 5 s:"
    echo
    echo '```'
    cat "$TMP/scale-redis-memory.txt"
    echo '```'
    echo
  } >>"$REDIS_REPORT"
  stop_nodes
  stop_pid "$REDIS_PID"
fi

exit "$STATUS"
