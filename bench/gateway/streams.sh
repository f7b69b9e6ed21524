#!/usr/bin/env bash
# 10,000 concurrent slow streaming chat requests through one Tripswitch gateway, against the upstream directly and
# plain YARP in the same run (bench/Tripswitch.Gateway.Bench/Streams). The client (this script's process), the
# upstream and each proxy are separate processes: one process may hold at most `ulimit -n` open files, and each proxy
# holds one inbound socket per stream but only a few HTTP/2 (h2c) connections towards the upstream.
# Usage: bench/gateway/streams.sh [streams, default 10000] [tokens per stream, 12] [min ms between tokens, 1000]
#                                 [max ms, 3000] [streams started per second, 1250]
# Takes about 2 minutes with the defaults and prints markdown tables (bench/results/gateway-streams.md keeps the
# committed ones). Exit code 1 if any stream lost a token or its [DONE].
set -euo pipefail
cd "$(dirname "$0")/../.."
streams=${1:-10000}
needed=$((streams + 500))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$needed" ]; then
  ulimit -n "$needed" 2>/dev/null || echo "ulimit -n is $(ulimit -n) and cannot be raised to $needed (hard limit $(ulimit -Hn)); the harness runs as many streams as fit and says why" >&2
fi
dotnet build bench/Tripswitch.Gateway.Bench -c Release -nologo -v q >/dev/null
exec dotnet bench/Tripswitch.Gateway.Bench/bin/Release/net10.0/Tripswitch.Gateway.Bench.dll streams "$streams" "${@:2}"
