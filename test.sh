#!/usr/bin/env bash
# Runs every test of ChatHub on a fresh Debian machine with the .NET SDK: installs what the tests drive
# (Debian's chromium for the browser tests, npm's wscat for the terminal test, iproute2's ss to look at the
# server's sockets, Debian's redis-server for the cluster tests) when missing, then runs
# `dotnet test` over the whole solution and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1; then
  echo "test.sh: installing chromium (Debian package) for the browser tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi

if ! command -v redis-server >/dev/null 2>&1; then
  echo "test.sh: installing redis-server (Debian package) for the cluster tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq redis-server >/dev/null
fi

if ! command -v ss >/dev/null 2>&1; then
  echo "test.sh: installing iproute2 (ss) for the TCP keep-alive test"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq iproute2 >/dev/null
fi

if ! command -v wscat >/dev/null 2>&1; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "test.sh: installing nodejs and npm (Debian packages) for wscat"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nodejs npm >/dev/null
  fi
  echo "test.sh: installing wscat (npm) for the terminal-client test"
  as_root npm install -g --silent wscat@6.1.0 >/dev/null
fi

# Load tests open a few hundred sockets at most in their smoke runs; the soft limit is raised anyway.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
# -m:1 runs the test projects one after another: the browser, load-test and protocol suites each start real
# servers and clients on a 2-core box, and running them side by side only makes them compete for the cores.
dotnet test ChatHub.sln -c Release -m:1 "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# dotnet test prints one "Passed!/Failed! - Failed: F, Passed: P, ..." line per test project; add them up.
summary=$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+' "$log" | awk -F'[:,]' '{f+=$2; p+=$4} END {printf "%d passed, %d failed", p, f}')
echo "Tests: ${summary:-0 passed, 0 failed}"
exit "$status"
