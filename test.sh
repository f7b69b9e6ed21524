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

# No test can hang the run. Each test has a budget (TRIPSWITCH_TEST_BUDGET_SECONDS, default 240: the kit's TestBudget
# cancels the test's own token and fails it by name). A wait no token can end is caught by the hang dump: a test host
# in which no test started or ended for TRIPSWITCH_HANG_SECONDS (default 360, more than a budget) writes the tests still
# running to TestResults/*_hang.log, takes a mini dump beside it and is ended, so the run fails; they are printed below.
budget=${TRIPSWITCH_TEST_BUDGET_SECONDS:-240}
hang=${TRIPSWITCH_HANG_SECONDS:-$((budget + 120))}
export TRIPSWITCH_TEST_BUDGET_SECONDS=$budget
results="$PWD/TestResults"
rm -f "$results"/*_hang.log

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test Tripswitch.slnx -c Release --results-directory "$results" \
  --hangdump --hangdump-timeout "${hang}s" --hangdump-type Mini "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# A hung test host reports none of its results; name the tests that were still running when it was ended.
hung=0
for file in "$results"/*_hang.log; do
  [ -e "$file" ] || continue
  echo "test.sh: a test host made no progress for ${hang} s and was ended; tests still running then ([elapsed] name):" >&2
  sed 's/^/  hung: /' "$file" >&2
  hung=$((hung + $(grep -c . "$file")))
  [ "$status" -ne 0 ] || status=1
done

# One plain closing line with the totals of the run (hung tests count as failed).
passed=$(grep -E '^\s+succeeded:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s+failed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -E '^\s+skipped:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
echo "Tests: ${passed} passed, $((failed + hung)) failed, ${skipped} skipped"
exit "$status"
