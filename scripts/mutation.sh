#!/usr/bin/env bash
# Mutation testing of the core's engine (src/Tripswitch/Controller) with Stryker.NET, pinned in .config/dotnet-tools.json.
# Run by hand, NOT by CI: about 45 minutes for the whole Controller folder on a busy 2-core machine (one mutant at a
# time: ~6 min to build and capture per-test coverage, then ~600 mutants), a few minutes for one small file.
# Settings: stryker-config.json (tests: tests/Tripswitch.Tests, minus the few slow soak tests named in its filter).
# Reports go to StrykerOutput/<time>/reports (git-ignored). The score, each surviving mutant's test-or-reason, and why
# survivors must be re-checked with "coverage-analysis": "all" (per-test coverage under MTP misses tests): docs/mutation.md.
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
