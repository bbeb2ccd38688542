#!/usr/bin/env bash
# Publishes the server three ways and measures them in one interleaved run (A, B, C, A, B, C, ...), so that the
# noise of a shared machine falls on all three alike:
#   aot     Native AOT (the project's publish: one native executable)
#   jit     framework-dependent (`dotnet ChatHub.Server.dll`: tiered JIT with dynamic PGO)
#   single  self-contained, single-file and trimmed (JIT, no shared framework)
# For each mode and round: time from exec to the first 200 of /readyz, open files and RSS once ready, RSS after
# 3 s idle, RSS at 10,000 idle joined connections (the `connections` scenario), and server CPU per delivery in the
# standard fan-out (500 members, window 32). Prints one table; the scenario results go to loadtests/results/tmp/.
#
#   loadtests/publish-modes.sh            # 2 rounds (about 10 minutes on a 2-core box)
#   ROUNDS=3 MODES="aot jit" loadtests/publish-modes.sh
#
# Not part of CI. Commit first: the load-test tool stamps every result with the commit.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS="${ROUNDS:-2}"
MODES="${MODES:-aot jit single}"
TMP=loadtests/results/tmp/publish-modes
LOADTESTS=(dotnet loadtests/ChatHub.LoadTests/bin/Release/net10.0/ChatHub.LoadTests.dll)
SERVER_ARGS=(--ChatHub:Storage:Provider=Memory --ChatHub:Security:PerIp:MaxConnections=0 --ChatHub:Security:PerIp:HandshakesPerSecond=0
  --ChatHub:Limits:MessagesPerSecond=1000000 --ChatHub:Limits:MessageBurst=1000000)
PORT=5290

ulimit -n "$(ulimit -Hn)"
rm -rf "$TMP"; mkdir -p "$TMP"

echo "== publish"
project=src/ChatHub.Server/ChatHub.Server.csproj
for mode in $MODES; do
  case $mode in
    aot) dotnet publish $project -c Release -nologo -v q -o "$TMP/aot" ;;
    jit) dotnet publish $project -c Release -nologo -v q -p:PublishAot=false -o "$TMP/jit" ;;
    single) dotnet publish $project -c Release -nologo -v q -r linux-x64 --self-contained -p:PublishAot=false \
              -p:PublishSingleFile=true -p:PublishTrimmed=true -o "$TMP/single" ;;
  esac
done
dotnet build loadtests/ChatHub.LoadTests/ChatHub.LoadTests.csproj -c Release -nologo -v q

command_of() {
  case $1 in
    aot) echo "$TMP/aot/ChatHub.Server" ;;
    jit) echo "dotnet $TMP/jit/ChatHub.Server.dll" ;;
    single) echo "$TMP/single/ChatHub.Server" ;;
  esac
}

SERVER_PID=
cleanup() { [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true; }
trap cleanup EXIT

# start MODE: starts the server and sets SERVER_PID and READY_MS (exec to the first 200 of /readyz).
start() {
  local t0 t1
  t0=$(date +%s%N)
  # shellcheck disable=SC2046
  $(command_of "$1") --urls "http://127.0.0.1:$PORT" "${SERVER_ARGS[@]}" >"$TMP/server-$1.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 3000); do
    if curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz"; then
      t1=$(date +%s%N); READY_MS=$(( (t1 - t0) / 1000000 )); return 0
    fi
    sleep 0.005
  done
  echo "the $1 server did not become ready; see $TMP/server-$1.log" >&2; return 1
}
stop() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
rss_mib() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }

rows=()
for round in $(seq 1 "$ROUNDS"); do
  for mode in $MODES; do
    echo "== round $round: $mode"
    start "$mode"
    fds=$(ls "/proc/$SERVER_PID/fd" | wc -l)
    rss_ready=$(rss_mib "$SERVER_PID")
    sleep 3 # idle: what the process settles at with nothing to do
    rss_idle=$(rss_mib "$SERVER_PID")
    "${LOADTESTS[@]}" connections --label "pm-conn-$mode-$round" --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" \
        --steps 0,10000 --rooms 500 --out "$TMP" --note "publish mode $mode" >"$TMP/pm-conn-$mode-$round.out"
    rss_10k=$(jq -r '.steps[-1] | "\(.rssBytes / 1048576 * 10 | round / 10) \(.held)"' "$TMP/pm-conn-$mode-$round.json")
    stop
    start "$mode"
    "${LOADTESTS[@]}" fanout --label "pm-fanout-$mode-$round" --url "http://127.0.0.1:$PORT" --server-pid "$SERVER_PID" \
        --members 500 --messages 10000 --warmup-messages 1000 --window 32 --out "$TMP" --note "publish mode $mode" >"$TMP/pm-fanout-$mode-$round.out"
    fan=$(jq -r '"\(.cpu.serverCpuMicrosecondsPerUnit * 100 | round / 100) \(.deliveriesPerSecond | round) \(.lost) \(.cpu.otherProcessesCpuPercentOfOneCore | round)"' "$TMP/pm-fanout-$mode-$round.json")
    stop
    rows+=("$round $mode $READY_MS $fds $rss_ready $rss_idle $rss_10k $fan")
  done
done

echo
echo "commit $(git rev-parse --short HEAD)$([[ -z "$(git status --porcelain -- src loadtests/ChatHub.LoadTests)" ]] || echo ' with local changes'), $(nproc) cores"
echo "| round | mode | ready ms | open files | RSS ready MiB | RSS idle MiB | RSS 10k MiB | held | fan-out µs CPU/delivery | deliveries/s | lost | other CPU % |"
echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
  read -r -a f <<<"$row"
  echo "| ${f[0]} | ${f[1]} | ${f[2]} | ${f[3]} | ${f[4]} | ${f[5]} | ${f[6]} | ${f[7]} | ${f[8]} | ${f[9]} | ${f[10]} | ${f[11]} |"
done
