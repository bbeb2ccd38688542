#!/usr/bin/env bash
# Runs every test of ChatHub on a fresh Debian machine with the .NET SDK: installs what the tests drive when it is
# missing (the table below says which test needs which package), then runs `dotnet test` over the whole solution
# and prints one summary line.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# package:command-or-path  — installed from Debian when the command (or file) is missing.
requirements=(
  chromium:chromium                          # browser tests (Playwright drives Debian's chromium)
  nginx:/usr/sbin/nginx                      # reverse-proxy tests with deploy/nginx/chathub.conf
  redis-server:redis-server                  # cluster tests start their own redis-server processes
  systemd:systemd-analyze                    # checks deploy/chathub.service offline
  docker-compose:docker-compose              # only `config`: validates compose.yaml without a container engine
  podman:podman runc:runc mmdebstrap:mmdebstrap  # the container test builds and runs the image with podman
  netavark:/usr/lib/podman/netavark aardvark-dns:/usr/lib/podman/aardvark-dns
  prometheus:promtool prometheus:prometheus  # /metrics checked by promtool and scraped by a real Prometheus
  curl:curl sqlite3:sqlite3                  # listen-address test (curl in a network namespace), backup test
  iproute2:ss                                # the TCP keep-alive test reads the kernel's socket table
  nodejs:node npm:npm                        # wscat, and the Node reference server of the load-test smoke tests
  clang:clang zlib1g-dev:/usr/include/zlib.h # Native AOT publish (the published-binary tests) compiles and links with them
)
missing=() packages=()
for requirement in "${requirements[@]}"; do
  package=${requirement%%:*} command=${requirement#*:}
  if ! command -v "$command" >/dev/null 2>&1 && [ ! -e "$command" ]; then missing+=("$package"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "test.sh: installing ${missing[*]} (Debian packages)"
  as_root apt-get update -qq
  for package in "${missing[@]}"; do
    # docker-compose would recommend the Docker engine, which is not wanted (nor able to run) here.
    [ "$package" = docker-compose ] && continue
    packages+=("$package")
  done
  [ ${#packages[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${packages[@]}" >/dev/null
  if [[ " ${missing[*]} " == *" docker-compose "* ]]; then
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  fi
fi

if ! command -v wscat >/dev/null 2>&1; then
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
