"""A small horizontal bar chart as PNG, drawn with the standard library alone.

The report needs one chart; a plotting library would be a heavy dependency for it. Labels use
a built-in 5x7 pixel font (capitals, digits and a little punctuation), drawn at twice size.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

Colour = tuple[int, int, int]

WHITE: Colour = (255, 255, 255)
INK: Colour = (33, 37, 41)
BAR: Colour = (46, 110, 180)
RULE: Colour = (206, 212, 218)
SCALE = 2
GLYPH_W, GLYPH_H = 5, 7
ADVANCE = (GLYPH_W + 1) * SCALE
ROW_H = 24
MARGIN = 12
WIDTH = 720

# Rows top to bottom, '#' an inked pixel. Lower case is drawn as upper case.
_FONT_ROWS = {
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "####. #...# #...# #...# #...# #...# ####.",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "####. ....# ....# .###. ....# ....# ####.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    " ": "..... ..... ..... ..... ..... ..... .....",
    "-": "..... ..... ..... ##### ..... ..... .....",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    ",": "..... ..... ..... ..... .##.. ..#.. .#...",
    ":": "..... .##.. .##.. ..... .##.. .##.. .....",
    "/": "....# ...#. ...#. ..#.. .#... .#... #....",
    "(": "...#. ..#.. .#... .#... .#... ..#.. ...#.",
    ")": ".#... ..#.. ...#. ...#. ...#. ..#.. .#...",
    "%": "##..# ##.#. ...#. ..#.. .#... .#.## #..##",
    "?": ".###. #...# ....# ...#. ..#.. ..... ..#..",
}
FONT: dict[str, tuple[str, ...]] = {ch: tuple(rows.split()) for ch, rows in _FONT_ROWS.items()}


class Canvas:
    """An RGB image in memory that knows how to become a PNG."""

    def __init__(self, *, width: int, height: int, background: Colour = WHITE) -> None:
        """A canvas filled with ``background``."""
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(background) * (width * height))

    def fill(self, x: int, y: int, w: int, h: int, colour: Colour) -> None:
        """Paint a rectangle, clipped to the canvas."""
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + w, self.width), min(y + h, self.height)
        if x1 <= x0 or y1 <= y0:
            return
        run = bytes(colour) * (x1 - x0)
        for row in range(y0, y1):
            start = (row * self.width + x0) * 3
            self.pixels[start : start + len(run)] = run

    def text(self, x: int, y: int, text: str, colour: Colour = INK) -> int:
        """Write ``text`` with its top left at (x, y); returns the x after it.

        Characters the font lacks are drawn as ``?``.
        """
        for char in text.upper():
            glyph = FONT.get(char, FONT["?"])
            for gy, row in enumerate(glyph):
                for gx, cell in enumerate(row):
                    if cell == "#":
                        self.fill(x + gx * SCALE, y + gy * SCALE, SCALE, SCALE, colour)
            x += ADVANCE
        return x

    def png(self) -> bytes:
        """The image as PNG bytes (8-bit RGB, no filtering, zlib-compressed)."""
        stride = self.width * 3
        raw = b"".join(
            b"\x00" + bytes(self.pixels[row * stride : (row + 1) * stride])
            for row in range(self.height)
        )
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (
            b"\x89PNG\r\n\x1a\n"
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def text_width(text: str) -> int:
    """Pixels ``text`` takes in the chart's font."""
    return len(text) * ADVANCE


def bar_chart(title: str, bars: Sequence[tuple[str, int]], *, width: int = WIDTH) -> bytes:
    """A horizontal bar chart: one labelled bar per (label, value), value written after it.

    Raises:
        ValueError: a value is negative, or the chart is too narrow for its labels.
    """
    if any(value < 0 for _, value in bars):
        raise ValueError("bar values must not be negative")
    label_w = max((text_width(label) for label, _ in bars), default=0)
    value_w = max((text_width(str(value)) for _, value in bars), default=0)
    bar_x = MARGIN + label_w + MARGIN
    room = width - bar_x - MARGIN - value_w - MARGIN // 2
    if room < 10 or text_width(title) + 2 * MARGIN > width:
        raise ValueError(f"a chart {width} px wide is too narrow for its labels")
    top = MARGIN + GLYPH_H * SCALE + MARGIN
    height = top + ROW_H * len(bars) + MARGIN
    canvas = Canvas(width=width, height=height)
    canvas.text(MARGIN, MARGIN, title)
    canvas.fill(bar_x - 1, top - 4, 1, ROW_H * len(bars) + 4, RULE)
    biggest = max((value for _, value in bars), default=0)
    text_dy = (ROW_H - GLYPH_H * SCALE) // 2
    for n, (label, value) in enumerate(bars):
        y = top + n * ROW_H
        canvas.text(MARGIN + label_w - text_width(label), y + text_dy, label)
        length = round(room * value / biggest) if biggest else 0
        canvas.fill(bar_x, y + 4, length, ROW_H - 8, BAR)
        canvas.text(bar_x + length + MARGIN // 2, y + text_dy, str(value))
    return canvas.png()


__all__ = ["FONT", "Canvas", "bar_chart", "text_width"]
