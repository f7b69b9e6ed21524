#!/usr/bin/env python3
"""Draws the packages' icon (docs/icon.png, 128x128): an open switch on a round badge.

Standard library only (zlib + struct), so it runs anywhere Python does. Re-run it to regenerate the committed PNG:
    python3 docs/tools/make-icon.py docs/icon.png
"""
import math
import struct
import sys
import zlib

SIZE = 128
BACKGROUND = (0, 0, 0, 0)
BADGE = (22, 50, 92, 255)        # dark blue
WIRE = (245, 246, 250, 255)      # near white
LEVER = (255, 184, 28, 255)      # amber: the tripped switch


def dist_to_segment(px, py, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
    return math.hypot(px - (ax + t * dx), py - (ay + t * dy))


def coverage(d, radius):
    """Anti-aliased coverage of a pixel whose centre is d away from a shape's centre line."""
    return max(0.0, min(1.0, radius + 0.5 - d))


def blend(dst, src, alpha):
    a = alpha * src[3] / 255
    out_a = a + dst[3] / 255 * (1 - a)
    if out_a == 0:
        return BACKGROUND
    rgb = [(src[i] * a + dst[i] * dst[3] / 255 * (1 - a)) / out_a for i in range(3)]
    return (*[round(c) for c in rgb], round(out_a * 255))


def pixel(x, y):
    px, py = x + 0.5, y + 0.5
    c = BACKGROUND
    c = blend(c, BADGE, coverage(math.hypot(px - 64, py - 64), 60))
    # the wire: left and right terminals
    c = blend(c, WIRE, coverage(dist_to_segment(px, py, 14, 80, 40, 80), 5))
    c = blend(c, WIRE, coverage(dist_to_segment(px, py, 88, 80, 114, 80), 5))
    c = blend(c, WIRE, coverage(math.hypot(px - 40, py - 80), 8))
    c = blend(c, WIRE, coverage(math.hypot(px - 88, py - 80), 8))
    # the lever, lifted: the circuit is open
    c = blend(c, LEVER, coverage(dist_to_segment(px, py, 40, 80, 84, 36), 6))
    return c


def png(width, height, rows):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(v for p in row for v in p) for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


if __name__ == "__main__":
    target = sys.argv[1] if len(sys.argv) > 1 else "docs/icon.png"
    with open(target, "wb") as f:
        f.write(png(SIZE, SIZE, [[pixel(x, y) for x in range(SIZE)] for y in range(SIZE)]))
