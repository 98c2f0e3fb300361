"""Page breaks of a stand-alone RTF table from the measured height of its text.

An RTF file fixes its page breaks (each page repeats the title and column headers), so they
must fall where a word processor would fill the page. rtflite's own estimate counts
``text width / column width`` lines, missing the cells' padding and breaks at word boundaries:
a listing whose cells wrap overflowed its pages and left orphan rows on extra pages. Here each
cell is wrapped word by word at its column width less padding, measured with the font metrics
rtflite ships (:func:`rtflite.get_string_width`), and pages are filled to a safety margin.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["CELL_PADDING_IN", "Block", "paginate", "row_height", "text_height", "text_lines"]

#: Line height in em (Arial's ascent plus descent is 1.15 em; a little more to be safe).
LINE_EM = 1.2
#: Space before and after each paragraph in a table cell, in points (15 + 15 twips).
CELL_SPACING_PT = 1.5
#: A cell's left plus right padding in inches (rtflite's ``\trgaph108`` on each side).
CELL_PADDING_IN = 2 * 108 / 1440
#: Share of the page's text height that the measured content may fill.
FILL = 0.9
#: Bold text is about this much wider than regular text (Arial).
BOLD_WIDTH = 1.08
#: rtflite's font number of Arial (the book's table font).
FONT = 4


def _width(text: str, size: float, bold: bool) -> float:
    from rtflite import get_string_width

    return get_string_width(text, font=FONT, font_size=size) * (BOLD_WIDTH if bold else 1.0)


def text_lines(text: str, width_in: float, size: float, bold: bool = False) -> int:
    """Lines ``text`` takes when wrapped at word boundaries (spaces; ``\\n`` breaks a line)
    in ``width_in`` inches at ``size`` points; a word wider than the line breaks inside."""
    if width_in <= 0:
        raise ValueError(f"no room for text: width {width_in:.3f} in")
    space = _width(" ", size, bold)
    lines = 0
    for paragraph in text.split("\n"):
        used, count = 0.0, 1
        for word in paragraph.split(" "):
            w = _width(word, size, bold)
            if used and used + space + w > width_in:
                count += 1
                used = 0.0
            if w > width_in:  # broken inside the word
                count += math.ceil(w / width_in) - 1
                used = w - (math.ceil(w / width_in) - 1) * width_in
            else:
                used = used + space + w if used else w
        lines += count
    return lines


def text_height(text: str, width_in: float, size: float, bold: bool = False,
                spacing_pt: float = 0.0) -> float:
    """Height in points of a paragraph of ``text`` (``spacing_pt`` before plus after)."""
    return text_lines(text, width_in, size, bold) * size * LINE_EM + spacing_pt


def row_height(cells: Sequence[tuple[str, float, bool]], size: float) -> float:
    """Height in points of a table row of ``(text, column width in inches, bold)`` cells."""
    lines = max((text_lines(t, w - CELL_PADDING_IN, size, b) for t, w, b in cells), default=1)
    return lines * size * LINE_EM + CELL_SPACING_PT


@dataclass(frozen=True)
class Block:
    """A run of rows that starts a new page (a row group): their heights in points and which
    rows stay on the page of the next row (a section head above its first item)."""

    heights: Sequence[float]
    keep_with_next: Sequence[bool] = ()


def paginate(blocks: Sequence[Block], room_pt: float, last_extra_pt: float) -> list[list[int]]:
    """Page number (from 0) of each row of each block: pages filled up to ``room_pt`` points
    (times :data:`FILL`), every block on a new page, and the last page keeping room for
    ``last_extra_pt`` points of notes after its rows (its last row moves to a new page rather
    than the notes running off the page)."""
    room = room_pt * FILL
    if room <= 0:
        raise ValueError("no room on the page for the table body")
    pages: list[list[int]] = []
    page, used = -1, 0.0
    for block in blocks:
        page, used = page + 1, 0.0
        numbers: list[int] = []
        heights = list(block.heights)
        keep = list(block.keep_with_next) or [False] * len(heights)
        for i, height in enumerate(heights):
            need = height + (heights[i + 1] if keep[i] and i + 1 < len(heights) else 0.0)
            if used and used + need > room:
                page, used = page + 1, 0.0
            numbers.append(page)
            used += height
        pages.append(numbers)
    if pages and pages[-1] and used + last_extra_pt > room and pages[-1].count(page) > 1:
        pages[-1][-1] = page + 1
    return pages
