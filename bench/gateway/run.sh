#!/usr/bin/env bash
# Added latency and throughput of the Tripswitch gateway on loopback, against calling the upstream directly and
# against plain YARP (the same IHttpForwarder, no circuits). Needs wrk (Debian: apt-get install -y wrk).
# Usage: bench/gateway/run.sh [seconds per run, default 10] [connections, default 16]
# Prints a markdown table (bench/results/gateway.md keeps the committed one).
set -euo pipefail
cd "$(dirname "$0")/../.."
duration=${1:-10}
connections=${2:-16}
port=5601
command -v wrk >/dev/null || { echo "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)" >&2; exit 1; }

dotnet build bench/Tripswitch.Gateway.Bench -c Release -nologo -v q >/dev/null
dotnet bench/Tripswitch.Gateway.Bench/bin/Release/net10.0/Tripswitch.Gateway.Bench.dll "$port" > /tmp/gateway-bench-servers.log 2>&1 &
servers=$!
trap 'kill $servers 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q '^ready' /tmp/gateway-bench-servers.log && break; sleep 0.2; done
grep -q '^ready' /tmp/gateway-bench-servers.log || { cat /tmp/gateway-bench-servers.log >&2; exit 1; }

run() { # name port -> "name|rps|p50|p99"
  wrk -t2 -c"$connections" -d2s -s bench/gateway/chat.lua "http://127.0.0.1:$2/v1/chat/completions" >/dev/null # warm-up
  out=$(wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/gateway/chat.lua "http://127.0.0.1:$2/v1/chat/completions")
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out")
  [ -z "$errors" ] || { echo "$1: $errors" >&2; exit 1; }
  echo "$1|$rps|$p50|$p99"
}

echo "| target | requests/s | p50 | p99 |"
echo "| --- | ---: | ---: | ---: |"
for row in "$(run "upstream directly" $port)" "$(run "plain YARP (no circuits)" $((port + 1)))" "$(run "Tripswitch gateway" $((port + 2)))"; do
  IFS='|' read -r name rps p50 p99 <<<"$row"
  echo "| $name | $rps | $p50 | $p99 |"
done
echo
echo "wrk -t2 -c$connections -d${duration}s --latency, POST /v1/chat/completions (bench/gateway/chat.lua), $(nproc) cores, $(date -u +%Y-%m-%d)"
