#!/usr/bin/env bash
# Packs every src package into a local folder feed (artifacts/packages), checks what each package carries (readme, icon,
# project and repository URLs, tags, symbols, one version for all, siblings depending on that version), then restores,
# builds and runs tests/PackageConsumer against that feed with PackageReference only. A packaging mistake fails here.
# Versions come from git tags through MinVer (see Directory.Build.props): tag `v1.2.3` for a release.
set -euo pipefail
cd "$(dirname "$0")/.."
feed=artifacts/packages
consumer=tests/PackageConsumer

fail() { echo "pack-check: $*" >&2; exit 1; }

# MinVer reads the version from git history: a shallow clone would miscount (or miss the tag), so deepen it first.
if [ "$(git rev-parse --is-shallow-repository 2>/dev/null || echo false)" = true ]; then
  git fetch --quiet --unshallow --tags || echo "pack-check: could not unshallow the clone; the version may be off" >&2
fi

# Every src project is a package unless it says <IsPackable>false</IsPackable> (an app, such as the gateway).
projects=()
for p in src/*/*.csproj; do
  grep -q '<IsPackable>false</IsPackable>' "$p" || projects+=("$p")
done
rm -rf "$feed" && mkdir -p "$feed"
# One solution of the src projects, so they are packed in one build.
{
  echo '<Solution>'
  for p in "${projects[@]}"; do echo "  <Project Path=\"../$p\" />"; done
  echo '</Solution>'
} > artifacts/packages.slnx
dotnet pack artifacts/packages.slnx -c Release -o "$feed" -nologo -clp:ErrorsOnly

zip_cat() { # zip_cat ARCHIVE ENTRY: print one entry of a zip
  if command -v unzip >/dev/null 2>&1; then unzip -p "$1" "$2"; else python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]).decode())' "$1" "$2"; fi
}
zip_list() {
  if command -v unzip >/dev/null 2>&1; then unzip -Z1 "$1"; else python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$1"; fi
}

version=""
ids=()
for p in "${projects[@]}"; do
  id=$(basename "$p" .csproj)
  ids+=("$id")
  nupkg=$(ls "$feed/$id".[0-9]*.nupkg 2>/dev/null | head -1) || true
  [ -n "$nupkg" ] || fail "$id: no package was produced (an app that isn't a package says <IsPackable>false</IsPackable>)"
  v=${nupkg#"$feed/$id."}; v=${v%.nupkg}
  [ -z "$version" ] || [ "$v" = "$version" ] || fail "$id is $v but another package is $version: every package of a commit has one version"
  version=$v
  [ -f "$feed/$id.$v.snupkg" ] || fail "$id: no symbol package ($id.$v.snupkg)"
  entries=$(zip_list "$nupkg")
  for entry in README.md icon.png "lib/net10.0/$id.dll" "lib/net10.0/$id.xml"; do
    grep -qx "$entry" <<<"$entries" || fail "$id: the package lacks $entry"
  done
  nuspec=$(zip_cat "$nupkg" "$id.nuspec")
  for element in '<readme>README.md</readme>' '<icon>icon.png</icon>' '<projectUrl>https://' '<repository type="git" url="https://' '<tags>' '<description>' '<license type="expression">'; do
    grep -qF "$element" <<<"$nuspec" || fail "$id: the nuspec lacks $element"
  done
  grep -qF 'commit="' <<<"$nuspec" || fail "$id: the nuspec's repository element names no commit (SourceLink found no git information)"
  # Siblings: every Tripswitch dependency is on this very version.
  while read -r dep; do
    [ "$dep" = "$v" ] || fail "$id depends on a sibling at $dep, not $v"
  done < <(grep -oE '<dependency id="Tripswitch[^"]*" version="[^"]*"' <<<"$nuspec" | sed -E 's/.*version="([^"]*)"/\1/')
  readme=$(zip_cat "$nupkg" README.md)
  grep -qF "dotnet add package $id" <<<"$readme" || fail "$id: src/$id/README.md (packed as the package's readme) has no install line (dotnet add package $id)"
done
echo "pack-check: ${#ids[@]} packages at $version, each with readme, icon, URLs, tags and symbols"

# The consumer must reference every package, so a new package is consumed too.
for id in "${ids[@]}"; do
  grep -q "PackageReference Include=\"$id\"" "$consumer/PackageConsumer.csproj" || fail "$consumer does not reference $id: add it (PackageReference and its PackageVersion)"
done
! grep -q "<ProjectReference" "$consumer/PackageConsumer.csproj" || fail "$consumer must use PackageReference only"

# Its own package folder: drop any earlier copy of these packages so the ones just packed are restored.
rm -rf artifacts/consumer-packages/tripswitch*
dotnet run --project "$consumer" -c Release -p:TripswitchVersion="$version" -nologo -clp:ErrorsOnly
