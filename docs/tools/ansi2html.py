#!/usr/bin/env python3
"""Turns a terminal capture with ANSI colours (tmux capture-pane -p -e) into a standalone HTML page.

Usage: ansi2html.py CAPTURE.ansi OUT.html [--title TEXT]

Handles what Spectre.Console writes through tmux: SGR 0/1/2/3/4/22/23/24/39/49, 30-37/90-97 (and 40-47/100-107),
38;5;N / 48;5;N (xterm-256) and 38;2;R;G;B / 48;2;R;G;B. Offline, standard library only.
"""
import html
import re
import sys

BASE16 = ["#1e1e1e", "#e05561", "#8cc265", "#d18f52", "#4aa5f0", "#c162de", "#42b3c2", "#d7dae0",
          "#5c6370", "#ff616e", "#a5e075", "#f0a45d", "#4dc4ff", "#de73ff", "#4cd1e0", "#ffffff"]
FG, BG = "#d7dae0", "#1b1d23"


def xterm(n):
    if n < 16:
        return BASE16[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[(n // 6) % 6], steps[n % 6])
    level = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (level, level, level)


def convert(text):
    state = {"fg": None, "bg": None, "bold": False, "dim": False, "italic": False, "underline": False}
    out = []
    open_span = False

    def style():
        parts = []
        if state["fg"]:
            parts.append("color:" + state["fg"])
        if state["bg"]:
            parts.append("background:" + state["bg"])
        if state["bold"]:
            parts.append("font-weight:bold")
        if state["dim"]:
            parts.append("opacity:.7")
        if state["italic"]:
            parts.append("font-style:italic")
        if state["underline"]:
            parts.append("text-decoration:underline")
        return ";".join(parts)

    for token in re.split(r"(\x1b\[[0-9;]*m)", text):
        if not token:
            continue
        if token.startswith("\x1b["):
            codes = [int(c) if c else 0 for c in token[2:-1].split(";")] or [0]
            i = 0
            while i < len(codes):
                c = codes[i]
                if c == 0:
                    state.update(fg=None, bg=None, bold=False, dim=False, italic=False, underline=False)
                elif c == 1:
                    state["bold"] = True
                elif c == 2:
                    state["dim"] = True
                elif c == 3:
                    state["italic"] = True
                elif c == 4:
                    state["underline"] = True
                elif c == 22:
                    state["bold"] = state["dim"] = False
                elif c == 23:
                    state["italic"] = False
                elif c == 24:
                    state["underline"] = False
                elif 30 <= c <= 37:
                    state["fg"] = BASE16[c - 30]
                elif 90 <= c <= 97:
                    state["fg"] = BASE16[c - 90 + 8]
                elif 40 <= c <= 47:
                    state["bg"] = BASE16[c - 40]
                elif 100 <= c <= 107:
                    state["bg"] = BASE16[c - 100 + 8]
                elif c == 39:
                    state["fg"] = None
                elif c == 49:
                    state["bg"] = None
                elif c in (38, 48) and i + 2 < len(codes) and codes[i + 1] == 5:
                    state["fg" if c == 38 else "bg"] = xterm(codes[i + 2])
                    i += 2
                elif c in (38, 48) and i + 4 < len(codes) and codes[i + 1] == 2:
                    state["fg" if c == 38 else "bg"] = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
                    i += 4
                i += 1
            continue
        if open_span:
            out.append("</span>")
            open_span = False
        s = style()
        if s:
            out.append('<span style="%s">' % s)
            open_span = True
        out.append(html.escape(token))
    if open_span:
        out.append("</span>")
    return "".join(out)


def main():
    source, target = sys.argv[1], sys.argv[2]
    title = sys.argv[sys.argv.index("--title") + 1] if "--title" in sys.argv else "terminal"
    with open(source, encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    while lines and not re.sub(r"\x1b\[[0-9;]*m", "", lines[0]).strip():
        lines.pop(0)
    body = convert("\n".join(lines))  # one pass: a colour set on one line goes on into the next, as in the terminal
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
  html, body {{ margin: 0; background: #0f1115; }}
  .window {{ display: inline-block; margin: 16px; border-radius: 10px; background: {BG};
            box-shadow: 0 6px 24px rgba(0,0,0,.5); overflow: hidden; }}
  .bar {{ height: 28px; background: #2b2e36; display: flex; align-items: center; padding-left: 12px; gap: 8px;
         font: 13px 'DejaVu Sans', sans-serif; color: #9aa0aa; }}
  .dot {{ width: 12px; height: 12px; border-radius: 50%; }}
  pre {{ margin: 0; padding: 12px 16px 16px; color: {FG};
        font: 14px/1.15 'DejaVu Sans Mono', monospace; white-space: pre; }}
</style></head>
<body><div class="window"><div class="bar"><span class="dot" style="background:#ff5f56"></span><span class="dot" style="background:#ffbd2e"></span><span class="dot" style="background:#27c93f"></span>&nbsp;{html.escape(title)}</div><pre>{body}</pre></div></body></html>
"""
    with open(target, "w", encoding="utf-8") as f:
        f.write(page)


if __name__ == "__main__":
    main()
