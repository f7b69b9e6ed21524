#!/usr/bin/env bash
# Captures the demo's live terminal view as docs/demo-terminal.png (and the end of the run as docs/demo-summary.png):
# runs the demo in a detached 120x40 tmux session, captures the screen with its colours (tmux capture-pane -p -e),
# turns it into HTML (ansi2html.py) and screenshots that with headless Chromium. Offline; needs tmux, python3, chromium.
# Usage: docs/tools/demo-screenshot.sh [seconds into the run for the live view, default 12.5]
set -euo pipefail
cd "$(dirname "$0")/../.."
at="${1:-12.5}"
cols=120 rows=40
work=$(mktemp -d)
session="tripswitch-demo-$$"
trap 'tmux kill-session -t "$session" 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build samples/Tripswitch.Demo -c Release -nologo -v quiet >/dev/null
tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
  "dotnet run --project samples/Tripswitch.Demo -c Release --no-build; echo; echo \"exit code \$?\"; sleep 600"
sleep "$at"
tmux capture-pane -p -e -t "$session" > "$work/live.ansi"
until tmux capture-pane -p -t "$session" -S - | grep -q '^exit code '; do sleep 1; done
tmux capture-pane -p -e -t "$session" -S - | grep -v '^exit code ' > "$work/all.ansi"
# The end of the run: from the summary rule to "Finished in".
python3 - "$work/all.ansi" "$work/summary.ansi" <<'PY'
import re, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
plain = [re.sub(r"\x1b\[[0-9;]*m", "", l) for l in lines]
start = max(i for i, l in enumerate(plain) if "── summary" in l)
end = max(i for i, l in enumerate(plain) if l.startswith("Finished in"))
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(lines[start:end + 1]) + "\n")
PY

shoot() { # ansi file, png, title
  local lines height
  lines=$(wc -l < "$1")
  python3 docs/tools/ansi2html.py "$1" "$work/page.html" --title "$3"
  height=$(python3 -c "print(int(32 + 28 + 28 + $lines * 14 * 1.15 + 8))")
  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
    --disable-component-update --disable-sync --user-data-dir="$work/profile" --hide-scrollbars \
    --window-size=1080,"$height" --screenshot="$2" "file://$work/page.html" >/dev/null 2>&1
  echo "wrote $2"
}
shoot "$work/live.ansi" docs/demo-terminal.png "dotnet run --project samples/Tripswitch.Demo"
shoot "$work/summary.ansi" docs/demo-summary.png "dotnet run --project samples/Tripswitch.Demo (the end)"
