#!/usr/bin/env bash
# Cuts a release: scripts/release.sh vX.Y.Z [--dry-run]
#   1. checks the version (vMAJOR.MINOR.PATCH, optionally -prerelease such as v1.2.0-rc.1), that the tree is clean
#      (nothing modified, staged or untracked) and that the tag doesn't exist yet;
#   2. tags HEAD (annotated: "Tripswitch X.Y.Z"), so MinVer gives every package exactly X.Y.Z;
#   3. packs with CI=true (ContinuousIntegrationBuild: deterministic, source paths mapped to /_/, so no local path ends
#      up in the PDBs or DLLs) into artifacts/packages and runs scripts/pack-check.sh on it;
#   4. checks that every package is X.Y.Z and that no package's DLL names this clone's path.
# --dry-run does all of that and then deletes the tag, leaving the repository as it found it (apart from artifacts/).
# Without --dry-run the tag stays; push it (git push origin vX.Y.Z) and publish artifacts/packages/*.nupkg yourself.
# A failure at any step deletes the tag this run made.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: scripts/release.sh vX.Y.Z [--dry-run]" >&2; exit 2; }
fail() { echo "release: $*" >&2; exit 1; }

tag="" dry_run=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) dry_run=true ;;
    -*) usage ;;
    *) [ -z "$tag" ] || usage; tag=$arg ;;
  esac
done
[ -n "$tag" ] || usage

# SemVer 2.0 core with an optional pre-release (no build metadata: MinVer would not carry it into the version).
semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
[[ "$tag" =~ $semver ]] || fail "'$tag' is not a version tag: expected vMAJOR.MINOR.PATCH or vMAJOR.MINOR.PATCH-prerelease, for example v1.0.0 or v1.1.0-rc.1"
version=${tag#v}

git rev-parse --git-dir >/dev/null 2>&1 || fail "not a git repository"
[ -z "$(git status --porcelain --untracked-files=normal)" ] \
  || fail "the working tree is not clean (commit or stash these first):"$'\n'"$(git status --short)"
! git rev-parse -q --verify "refs/tags/$tag" >/dev/null || fail "tag $tag already exists (at $(git rev-list -n1 "$tag"))"
# MinVer counts from the tags in the history: a shallow clone could miss them.
[ "$(git rev-parse --is-shallow-repository)" = false ] || fail "this is a shallow clone; fetch the whole history first (git fetch --unshallow --tags)"

made_tag=false
cleanup() {
  status=$?
  if $made_tag && { $dry_run || [ $status -ne 0 ]; }; then
    git tag -d "$tag" >/dev/null && echo "release: deleted tag $tag$($dry_run && echo ' (dry run)')"
  fi
  exit $status
}
trap cleanup EXIT

git tag -a "$tag" -m "Tripswitch $version"
made_tag=true
echo "release: tagged $(git rev-parse --short HEAD) as $tag"

# CI=true turns on ContinuousIntegrationBuild (Directory.Build.props): deterministic, with /_/ instead of local paths.
CI=true scripts/pack-check.sh

feed=artifacts/packages
shopt -s nullglob
packages=("$feed"/*.nupkg)
[ ${#packages[@]} -gt 0 ] || fail "no packages in $feed"
root=$(pwd -P)
for nupkg in "${packages[@]}"; do
  name=$(basename "$nupkg" .nupkg)
  [[ "$name" == *".$version" ]] || fail "$name is not version $version (is the tag on HEAD, and did MinVer see it?)"
  # A DLL names its PDB's path; a local build writes this clone's path there, a CI build /_/...
  python3 - "$nupkg" "$root" <<'EOF' || fail "$name: a DLL contains the local path $root (was it packed without CI=true?)"
import sys, zipfile
archive, root = sys.argv[1], sys.argv[2].encode()
with zipfile.ZipFile(archive) as z:
    sys.exit(1 if any(root in z.read(n) for n in z.namelist() if n.endswith(".dll")) else 0)
EOF
done

echo "release: ${#packages[@]} packages at $version in $feed, deterministic, checked"
if $dry_run; then
  echo "release: dry run done; nothing to push"
else
  echo "release: next: git push origin $tag, then publish $feed/*.nupkg (and the .snupkg symbol packages)"
fi
