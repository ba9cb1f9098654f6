#!/usr/bin/python3
"""Turns totp-enroll's terminal QR code into a PGM image zbarimg can read.

Reads the command's text output on stdin, keeps the lines that draw the
code (those holding ANSI colour escapes), and paints each character cell
the way a terminal would: half blocks (U+2580 upper, U+2584 lower, U+2588
full) and spaces in the current foreground/background colour.  Every line
becomes two pixel rows, so the UTF-8 mode (two modules a cell) and the
ANSI mode (two cells a module) both come out square.  The image is scaled
up and given a white border, and written to the file named by argv[1].
Colours other than black (30/40) and white (37/47/97/107) are an error:
the code must paint both kinds of module itself.
"""
import re
import sys

DARK, LIGHT = 0, 255
FG = {30: DARK, 37: LIGHT, 97: LIGHT}
BG = {40: DARK, 47: LIGHT, 107: LIGHT}
TOKEN = re.compile(r"\x1b\[([0-9;]*)m|(.)", re.S)


def cells(line):
    fg = bg = None
    for m in TOKEN.finditer(line):
        if m.group(2) is None:
            for p in (int(x) for x in (m.group(1) or "0").split(";")):
                if p == 0:
                    fg = bg = None
                elif p in FG:
                    fg = FG[p]
                elif p in BG:
                    bg = BG[p]
                else:
                    sys.exit("unexpected SGR %d" % p)
            continue
        ch = m.group(2)
        shape = {" ": "bb", "\u2580": "fb", "\u2584": "bf", "\u2588": "ff"}.get(ch)
        if shape is None:
            sys.exit("unexpected character %r in the QR code" % ch)
        pick = {"f": fg, "b": bg}
        top, bottom = pick[shape[0]], pick[shape[1]]
        if top is None or bottom is None:
            sys.exit("a module is drawn in the terminal's default colour")
        yield top, bottom


def main():
    text = sys.stdin.buffer.read().decode("utf-8")
    rows = []
    for line in text.split("\n"):
        if "\x1b[" not in line:
            continue
        top, bottom = [], []
        for t, b in cells(line):
            top.append(t)
            bottom.append(b)
        rows += [top, bottom]
    if not rows or len({len(r) for r in rows}) != 1:
        sys.exit("no QR code, or rows of different widths")
    scale, border = 6, 24
    width = len(rows[0]) * scale + 2 * border
    height = len(rows) * scale + 2 * border
    img = bytearray([LIGHT]) * (width * height)
    for y, row in enumerate(rows):
        for x, v in enumerate(row):
            if v == DARK:
                for dy in range(scale):
                    off = (border + y * scale + dy) * width + border + x * scale
                    img[off:off + scale] = bytes(scale)
    with open(sys.argv[1], "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (width, height))
        f.write(bytes(img))


main()
