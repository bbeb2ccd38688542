#!/usr/bin/env bash
# Runs the standard load-test set against freshly started Release servers on this machine and
# regenerates the figures in docs/benchmarks.md and the plots docs/img/connections-memory.png and
# docs/img/compare-memory.png.
#
#   loadtests/run-all.sh            # everything (about 25 minutes on a 2-core box)
#   ONLY=compare loadtests/run-all.sh   # ChatHub (memory, SQLite), Node ws and SignalR side by side (about 15 minutes)
#   ONLY="fanout chat" loadtests/run-all.sh
#   STORAGE=Sqlite SUFFIX=-sqlite ONLY="fanout chat slow-consumer" loadtests/run-all.sh
#                                   # servers with the SQLite store in a temp file; results named *-sqlite
#
# Not part of CI. Servers and load generator share the machine's cores; see docs/benchmarks.md.
# Every figure names the commit it was measured at, so the sources must be committed first: with local changes
# to src/, loadtests/ChatHub.LoadTests or loadtests/peers the script refuses (ALLOW_DIRTY=1 runs anyway, and
# then the report step refuses to put those results into docs/benchmarks.md).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "$(git status --porcelain -- src loadtests/ChatHub.LoadTests loadtests/peers)" && "${ALLOW_DIRTY:-0}" != 1 ]]; then
  echo "run-all.sh: src/, loadtests/ChatHub.LoadTests or loadtests/peers has local changes; commit them first (figures name their commit)." >&2
  git status --short -- src loadtests/ChatHub.LoadTests loadtests/peers >&2
  exit 2
fi

ONLY="${ONLY:-connections connections-http connections-multi fanout fanout-windows chat chat-2k slow-consumer compare}"
STORAGE="${STORAGE:-Memory}"
SUFFIX="${SUFFIX:-}"          # appended to each result's label
RESULTS=loadtests/results
TMP="$RESULTS/tmp"            # server logs and SQLite files; git-ignored
# The server as it ships: the Native AOT executable that `dotnet publish` makes (docs/performance.md#publish-mode).
SERVER_DIR="$TMP/server"
SERVER="$SERVER_DIR/ChatHub.Server"
LOADTESTS=(dotnet loadtests/ChatHub.LoadTests/bin/Release/net10.0/ChatHub.LoadTests.dll)
# A sender in fan-out and slow-consumer goes far beyond the default 20 messages/s.
FAST_SENDER=(--ChatHub:Limits:MessagesPerSecond=1000000 --ChatHub:Limits:MessageBurst=1000000)

# Thousands of connections come from a few 127.0.0.x addresses: lift the per-address limits (docs/security.md).
NO_PER_IP_LIMITS=(--ChatHub:Security:PerIp:MaxConnections=0 --ChatHub:Security:PerIp:HandshakesPerSecond=0)

# A hard limit of 20,000 open files per process is common; servers and workers inherit the soft one.
ulimit -n "$(ulimit -Hn)"
mkdir -p "$TMP" docs/img

echo "== publish the server (Native AOT) and build the load-test tool (Release)"
dotnet publish src/ChatHub.Server/ChatHub.Server.csproj -c Release -nologo -v q -o "$SERVER_DIR"
dotnet build loadtests/ChatHub.LoadTests/ChatHub.LoadTests.csproj -c Release -nologo -v q

STARTED_PIDS=()
cleanup() {
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# start_server PORT [extra server args...]  -> sets SERVER_PID
start_server() {
  local port=$1; shift
  local storage_args=(--ChatHub:Storage:Provider="$STORAGE")
  if [[ "$STORAGE" == "Sqlite" ]]; then
    rm -f "$TMP/chathub-$port.db"*
    storage_args+=(--ChatHub:Storage:SqlitePath="$TMP/chathub-$port.db")
  fi
  "$SERVER" --urls "http://127.0.0.1:$port" "${storage_args[@]}" "${NO_PER_IP_LIMITS[@]}" "$@" >"$TMP/server-$port.log" 2>&1 &
  SERVER_PID=$!
  STARTED_PIDS+=("$SERVER_PID")
  # The server has no "ready" signal to a parent process; /readyz is its readiness event. Bounded: 30 s.
  for _ in $(seq 1 150); do
    if curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; then
      echo "   server :$port pid $SERVER_PID ($STORAGE)"
      return 0
    fi
    sleep 0.2
  done
  echo "server on :$port did not become ready; see $TMP/server-$port.log" >&2
  return 1
}

stop_server() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

wants() { [[ " $ONLY " == *" $1 "* ]]; }

# The box is shared (builds, other test suites). Before a CPU-sensitive scenario, wait until the whole
# machine was under QUIET_BUSY % busy over 2 s, for at most QUIET_WAIT s; either way say what it was, and the
# result's CPU lines show how much CPU other work took during the run.
QUIET_BUSY="${QUIET_BUSY:-25}"
QUIET_WAIT="${QUIET_WAIT:-90}"
machine_busy() {
  local a b
  read -r -a a < /proc/stat; sleep 2; read -r -a b < /proc/stat
  local busy=$(( (b[1]+b[2]+b[3]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[6]+a[7]+a[8]) ))
  local total=$(( busy + (b[4]+b[5]) - (a[4]+a[5]) ))
  echo $(( total > 0 ? 100 * busy / total : 0 ))
}
wait_quiet() {
  local start=$SECONDS busy
  while true; do
    busy=$(machine_busy)
    if (( busy < QUIET_BUSY )) || (( SECONDS - start >= QUIET_WAIT )); then
      echo "   machine ${busy}% busy before the run (waited $(( SECONDS - start )) s)"
      return 0
    fi
  done
}
STATUS=0
# The commit itself is recorded by the load-test tool in every result (and checked for local changes).
SERVER_BUILD="Native AOT, $STORAGE store"
run() { "${LOADTESTS[@]}" "$@" --out "$RESULTS" --note "$SERVER_BUILD" || STATUS=1; }

if wants connections; then
  echo "== connections: one server, 0 -> 19,000 idle connections"
  start_server 5201
  run connections --url http://127.0.0.1:5201 --server-pid "$SERVER_PID" \
      --steps 0,1000,2000,5000,10000,15000,19000 --rooms 500 --plot docs/img/connections-memory.png
  stop_server "$SERVER_PID"
fi

if wants connections-http; then
  # The same ramp with upgrades accepted through the ASP.NET Core pipeline instead of on the transport.
  echo "== connections-http: one server, handshake through HTTP (AcceptOnTransport=false)"
  start_server 5209 --ChatHub:Connections:AcceptOnTransport=false
  run connections --label connections-http --url http://127.0.0.1:5209 --server-pid "$SERVER_PID" \
      --steps 0,1000,2000,5000,10000,15000,19000 --rooms 500 --plot "$RESULTS/connections-http.png"
  stop_server "$SERVER_PID"
fi

if wants connections-multi; then
  # One server process holds at most ~19,900 sockets (20,000 open files), so past that the load is
  # spread over two servers; the tool sums their memory.
  echo "== connections-multi: two servers, 0 -> 36,000 idle connections"
  start_server 5202; PID_A=$SERVER_PID
  start_server 5203; PID_B=$SERVER_PID
  run connections --label connections-multi \
      --url http://127.0.0.1:5202 --url http://127.0.0.1:5203 --server-pid "$PID_A,$PID_B" \
      --steps 0,5000,10000,20000,30000,36000 --rooms 500 --plot "$RESULTS/connections-multi.png"
  stop_server "$PID_A"; stop_server "$PID_B"
fi

if wants connections-large; then
  # Opt-in (ONLY=connections-large): three servers, 54,000 connections.
  echo "== connections-large: three servers, 0 -> 54,000 idle connections"
  start_server 5205; PID_A=$SERVER_PID
  start_server 5206; PID_B=$SERVER_PID
  start_server 5207; PID_C=$SERVER_PID
  run connections --label connections-large \
      --url http://127.0.0.1:5205 --url http://127.0.0.1:5206 --url http://127.0.0.1:5207 --server-pid "$PID_A,$PID_B,$PID_C" \
      --steps 0,10000,20000,30000,40000,54000 --rooms 500 --plot "$RESULTS/connections-large.png"
  stop_server "$PID_A"; stop_server "$PID_B"; stop_server "$PID_C"
fi

if wants fd-limit; then
  # Opt-in (ONLY=fd-limit): asks one server for more connections than its open files allow. The server caps
  # connections at its open-files limit less what it had open at start less a reserve (19,864 for the Native AOT
  # server under a 20,000 limit): the 19,800 step must hold every connection, the 19,990 step goes past the cap, so
  # the run FAILS on the refused connects while the held ones stay (before the cap, the server aborted).
  echo "== fd-limit: one server, 0 -> 19,000 -> 19,800 -> 19,990"
  start_server 5208
  # Its failure at the last step is the finding, so it does not fail the script.
  "${LOADTESTS[@]}" connections --label connections-fd-limit --url http://127.0.0.1:5208 --server-pid "$SERVER_PID" \
      --steps 0,19000,19800,19990 --connect-timeout-seconds 5 --settle-seconds 10 --plot "$RESULTS/connections-fd-limit.png" \
      --out "$RESULTS" --note "$SERVER_BUILD" || echo "   (fd-limit failed past the cap as expected; see the section in docs/benchmarks.md)"
  stop_server "$SERVER_PID"
fi

if wants fanout || wants fanout-windows || wants chat || wants chat-2k || wants slow-consumer || wants slow-consumer-long; then
  echo "== messaging server"
  start_server 5204 "${FAST_SENDER[@]}"
  MSG_PID=$SERVER_PID
  if wants fanout; then
    echo "== fanout"
    wait_quiet
    run fanout --label "fanout$SUFFIX" --url http://127.0.0.1:5204 --server-pid "$MSG_PID" --members 500 --messages 10000 --warmup-messages 1000 --window 32
  fi
  if wants fanout-windows; then
    # The window trades latency for throughput; 8 and 128 either side of the standard 32.
    for w in 8 128; do
      echo "== fanout, window $w"
      wait_quiet
      run fanout --label "fanout-w$w$SUFFIX" --url http://127.0.0.1:5204 --server-pid "$MSG_PID" --members 500 --messages 10000 --warmup-messages 1000 --window "$w"
    done
  fi
  if wants chat; then
    echo "== chat: 1,000 connections"
    wait_quiet
    run chat --label "chat$SUFFIX" --url http://127.0.0.1:5204 --server-pid "$MSG_PID" --connections 1000 --rooms 50 --rate 1 --warmup-seconds 5 --seconds 60
  fi
  if wants chat-2k; then
    echo "== chat: 2,000 connections"
    wait_quiet
    run chat --label "chat-2k$SUFFIX" --url http://127.0.0.1:5204 --server-pid "$MSG_PID" --connections 2000 --rooms 100 --rate 1 --warmup-seconds 5 --seconds 60
  fi
  if wants slow-consumer; then
    echo "== slow-consumer"
    wait_quiet
    run slow-consumer --label "slow-consumer$SUFFIX" --url http://127.0.0.1:5204 --server-pid "$MSG_PID" --members 10 --senders 2 --rate 200 --text-chars 4000
  fi
  if wants slow-consumer-long; then
    # Opt-in: 20 s of busy room after the close, to see where the server's memory settles.
    echo "== slow-consumer, long"
    wait_quiet
    run slow-consumer --label "slow-consumer-long$SUFFIX" --url http://127.0.0.1:5204 --server-pid "$MSG_PID" --members 10 --senders 2 --rate 200 --text-chars 4000 --after-seconds 20
  fi
  stop_server "$MSG_PID"
fi

if wants compare; then
  # The same idle / fan-out / chat load against ChatHub (memory and SQLite store), the Node ws peer and the
  # SignalR peer (loadtests/peers), each scenario on a freshly started server, one server at a time.
  echo "== compare: ChatHub (memory, SQLite), Node ws, SignalR"
  dotnet build loadtests/peers/signalr/SignalRPeer.csproj -c Release -nologo -v q
  (cd loadtests/peers/node-ws && npm ci --no-audit --no-fund --loglevel=error)
  wait_quiet
  # Not through run(): its note names one store, and compare starts servers of both.
  "${LOADTESTS[@]}" compare --out "$RESULTS" --targets chathub-memory,chathub-sqlite,node-ws,signalr \
      --server-dll "$SERVER" --signalr-dll loadtests/peers/signalr/bin/Release/net10.0/SignalRPeer.dll --node-peer loadtests/peers/node-ws \
      --idle-steps 0,1000,2000,5000,10000 --idle-from 1000 --idle-rooms 100 \
      --capacity-steps 0,19000,19500,19900 \
      --fanout-members 1000 --fanout-messages 2000 --fanout-warmup-messages 200 --fanout-window 50 \
      --chat-connections 2000 --chat-rooms 200 --chat-rate 1 --chat-seconds 20 --chat-warmup-seconds 5 \
      --plot docs/img/compare-memory.png || STATUS=1
fi

# What was measured: the server's commit (and whether its sources had uncommitted changes), the box.
{
  echo "### Environment of the last run-all.sh$SUFFIX"
  echo
  echo "- run at: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- commit: $(git rev-parse --short HEAD)$([[ -z "$(git status --porcelain -- src loadtests/ChatHub.LoadTests loadtests/peers)" ]] || echo ' with local changes: not reproducible')"
  echo "- storage: $STORAGE"
  echo "- cores: $(nproc), memory: $(free -m | awk '/Mem:/ {print $2}') MiB, kernel $(uname -r)"
  echo "- dotnet: $(dotnet --version) SDK; open files per process: $(ulimit -n) (hard $(ulimit -Hn))"
  echo "- ephemeral ports: $(cat /proc/sys/net/ipv4/ip_local_port_range | tr '\t' '-')"
} > "$RESULTS/environment$SUFFIX.md"

echo "== report"
"${LOADTESTS[@]}" report --results "$RESULTS" --doc docs/benchmarks.md
exit $STATUS
