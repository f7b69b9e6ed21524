#!/usr/bin/env bash
# Planted bugs: applies each patch of scripts/plants/ (a realistic bug in src) to a temporary git worktree of HEAD,
# builds the test project the patch names and runs it with integration required and a timeout, then prints which
# tests caught each plant. Run by hand, not by CI (a full run takes a long time). See docs/mutation.md, "Planted bugs".
#
#   scripts/plant.sh                                  # every plant
#   scripts/plant.sh polly-ignore-key-selector ...    # the named plants (file names without .patch)
#   PLANT_TIMEOUT=1200 scripts/plant.sh               # seconds per test run (default 900)
#   PLANT_BASELINE=0 scripts/plant.sh ...             # skip the run of each project without a plant
#
# The caller's working tree is never touched: the plants are applied in a worktree under a temporary directory,
# which is removed at the end (also on Ctrl-C); the logs stay in a directory the script names at the end.
# Each test project first runs once without any plant (the baseline): a test that fails there is not counted as
# catching a plant, and is listed below the table.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
plants_dir="$repo/scripts/plants"
timeout_s=${PLANT_TIMEOUT:-900}
baseline=${PLANT_BASELINE:-1}
logs=$(mktemp -d "${TMPDIR:-/tmp}/tripswitch-plants.XXXXXX")

if [ $# -gt 0 ]; then
  plants=()
  for name in "$@"; do plants+=("$plants_dir/${name%.patch}.patch"); done
else
  plants=("$plants_dir"/*.patch)
fi
for plant in "${plants[@]}"; do
  [ -f "$plant" ] || { echo "plant.sh: no such plant: $plant" >&2; exit 2; }
done

work=$(mktemp -d)
tree="$work/tree"
cleanup() {
  git -C "$repo" worktree remove --force "$tree" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
git -C "$repo" worktree add --detach --quiet "$tree" HEAD
# The patches are read from the caller's scripts/plants (uncommitted ones too); src is HEAD's.
# The gateway's Node client tests need the locked npm packages: reuse the caller's install when there is one.
node_modules="$repo/tests/Tripswitch.Gateway.Tests/node/node_modules"
if [ -d "$node_modules" ]; then
  ln -s "$node_modules" "$tree/tests/Tripswitch.Gateway.Tests/node/node_modules"
elif command -v npm >/dev/null 2>&1; then
  (cd "$tree/tests/Tripswitch.Gateway.Tests/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || true
fi
export TRIPSWITCH_REQUIRE_INTEGRATION=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Builds and runs $1 (a test project) in the worktree, logging to $2; sets status and failed (the failed tests' names).
run_project() {
  local project=$1 log=$2
  status=0
  failed=""
  if ! (cd "$tree" && dotnet build "$project" -c Release >"$log" 2>&1); then
    status=build
    return
  fi

  set +e
  (cd "$tree" && timeout --kill-after=30 "$timeout_s" dotnet test --project "$project" -c Release --no-build >>"$log" 2>&1)
  status=$?
  set -e
  # Microsoft.Testing.Platform prints each failed test as "failed <name> (<duration>)".
  failed=$(sed -n 's/^[[:space:]]*failed \(.*\) ([0-9][^)]*)[[:space:]]*$/\1/p' "$log" | sort -u)
}

declare -A baseline_failed=()
results=()
for plant in "${plants[@]}"; do
  name=$(basename "$plant" .patch)
  description=$(sed -n 's/^# //p' "$plant" | head -1)
  project=$(sed -n 's/^# tests: //p' "$plant" | head -1)
  if [ "$baseline" = 1 ] && [ -z "${baseline_failed[$project]+set}" ]; then
    echo "== baseline: $project without a plant"
    git -C "$tree" checkout --quiet --force HEAD
    run_project "$project" "$logs/baseline-$(basename "$project").log"
    baseline_failed[$project]=$failed
    [ "$status" = 0 ] || echo "   baseline exit $status; failed: ${failed:-none named}"
  fi

  echo "== $name: $description ($project)"
  git -C "$tree" checkout --quiet --force HEAD
  if ! git -C "$tree" apply "$plant"; then
    results+=("$name|does not apply|")
    continue
  fi

  run_project "$project" "$logs/$name.log"
  # Only the tests that pass without the plant count as catching it.
  caught=$(comm -23 <(printf '%s\n' "$failed" | sed '/^$/d' | sort -u) <(printf '%s\n' "${baseline_failed[$project]:-}" | sed '/^$/d' | sort -u) | paste -sd ';' - | sed 's/;/; /g')
  if [ "$status" = build ]; then
    results+=("$name|build failed: see $logs/$name.log|")
  elif [ "$status" = 124 ] || [ "$status" = 137 ]; then
    results+=("$name|timed out after ${timeout_s} s|$caught")
  elif [ -n "$caught" ]; then
    results+=("$name|caught|$caught")
  elif [ "$status" = 0 ] || [ -n "$failed" ]; then
    results+=("$name|missed|")
  else
    results+=("$name|test run failed (exit $status), no test named: see $logs/$name.log|")
  fi
done
git -C "$tree" checkout --quiet --force HEAD

echo
echo "| Plant | Result | Caught by |"
echo "|---|---|---|"
for row in "${results[@]}"; do
  IFS='|' read -r name result tests <<<"$row"
  echo "| $name | $result | ${tests:-—} |"
done
for project in "${!baseline_failed[@]}"; do
  [ -z "${baseline_failed[$project]}" ] || echo "Failed without a plant in $project (not counted): $(printf '%s' "${baseline_failed[$project]}" | paste -sd ';' - | sed 's/;/; /g')"
done
echo "Logs: $logs"
