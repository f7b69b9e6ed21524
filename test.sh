#!/usr/bin/env bash
# Runs every test of the solution. Installs what the integration tests need when it can (Debian/Ubuntu as root),
# otherwise says what to install; those tests then report as skipped, or fail when TRIPSWITCH_REQUIRE_INTEGRATION=1.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the integration tests use: "command:package". redis-cli (redis-tools) builds the Redis Cluster;
# openssl makes the certificate of the TLS redis-server; chromium drives the dashboard's browser tests;
# npm installs the gateway's Node client tests.
prerequisites=("redis-server:redis-server" "redis-cli:redis-tools" "openssl:openssl" "chromium:chromium" "npm:npm")

missing=()
for item in "${prerequisites[@]}"; do
  command -v "${item%%:*}" >/dev/null 2>&1 || missing+=("${item#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test.sh: installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "test.sh: missing ${missing[*]}; install them (Debian/Ubuntu: sudo apt-get install -y ${missing[*]})." >&2
    echo "test.sh: the tests that need them will be reported as skipped." >&2
  fi
fi

if ! command -v dotnet >/dev/null 2>&1; then
  echo "test.sh: the .NET 10 SDK is required (dotnet on PATH)." >&2
  exit 1
fi

# The gateway's Node client tests use the official openai package exactly as locked.
if command -v npm >/dev/null 2>&1; then
  (cd tests/Tripswitch.Gateway.Tests/node && npm ci --no-audit --no-fund --loglevel=error) || echo "test.sh: npm ci failed; the Node client tests will be skipped." >&2
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Tripswitch.slnx -c Release "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line with the totals of the run.
passed=$(grep -E '^\s+succeeded:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s+failed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -E '^\s+skipped:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "Tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
exit "$status"
