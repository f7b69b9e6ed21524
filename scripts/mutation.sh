#!/usr/bin/env bash
# Mutation testing of the core's engine (src/Tripswitch/Controller) with Stryker.NET, pinned in .config/dotnet-tools.json.
# Run by hand, NOT by CI: about 30-60 minutes for the whole Controller folder on 2 cores (one mutant at a time),
# a few minutes for one small file. Settings: stryker-config.json (tests: tests/Tripswitch.Tests). Reports go to
# StrykerOutput/<time>/reports (git-ignored). The score and each surviving mutant's test-or-reason: docs/mutation.md.
#
#   scripts/mutation.sh                                        # the whole Controller folder
#   scripts/mutation.sh '**/Controller/ProbeSlots.cs'          # one file (a glob over the core project's files)
#   scripts/mutation.sh '**/Controller/CircuitStateMachine*.cs' --concurrency 2   # then any Stryker arguments
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
dotnet tool restore >/dev/null

args=()
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then
  args+=(--mutate "$1")
  shift
fi
# Stryker runs from the test project's folder (project mode: it mutates the project that project references).
cd tests/Tripswitch.Tests
exec dotnet tool run dotnet-stryker --config-file "$root/stryker-config.json" --skip-version-check \
  --output "$root/StrykerOutput/$(date -u +%Y-%m-%dT%H-%M-%S)" "${args[@]}" "$@"
