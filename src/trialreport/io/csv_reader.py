"""Read a CSV file as text, exactly as written, with every record's physical line number.

Each column comes back as a pandas ``category`` of the strings in the file (the file's empty
field as the only missing value): nothing is converted, trimmed or guessed, so the validator
decides what each value means, and a column of a million records with a few hundred distinct
values takes little memory. The frame's index is the record's start line minus 2 (the header is
line 1, so :func:`trialreport.io.readers.row_number` gives the line a person sees), also after
blank lines and quoted fields that hold line breaks.

Refused with a :class:`DataReadError` naming file, line and column: bytes that are not UTF-8
(with a hint when the file looks like Latin-1/Windows-1252), NUL bytes (a binary file), a column
named twice or not at all in the header, a record with more or fewer fields than the header, and
an unclosed quote.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from trialreport.io.csv_layout import Layout, line_of_offset, scan, scan_text
from trialreport.io.errors import DataReadError

BOM = b"\xef\xbb\xbf"


def _not_utf8(data: bytes, exc: UnicodeDecodeError, path: Path) -> DataReadError:
    """Name the line (and column, when the header can be read) of the first non-UTF-8 byte."""
    row = line_of_offset(data, exc.start)
    byte = data[exc.start:exc.start + 1].hex().upper()
    start = max(data.rfind(b"\n", 0, exc.start), data.rfind(b"\r", 0, exc.start)) + 1
    end = min((i for i in (data.find(b"\n", exc.start), data.find(b"\r", exc.start))
               if i >= 0), default=len(data))
    column = None
    header_end = min((i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0),
                     default=len(data))
    header = next(csv.reader([data[:header_end].decode("utf-8", errors="replace")]), [])
    line = data[start:end].decode("utf-8", errors="replace")
    for i, value in enumerate(next(csv.reader([line]), [])):
        if "\ufffd" in value:
            column = header[i] if i < len(header) else f"field {i + 1}"
            break
    hint = "save the file as UTF-8"
    try:
        data.decode("cp1252")
        hint = "the file looks like Latin-1/Windows-1252 text; save it as UTF-8"
    except UnicodeDecodeError:
        pass
    if b"\r" in data and b"\n" not in data:
        hint += "; its lines end in CR only (old Mac style)"
    return DataReadError(str(path), f"byte 0x{byte} is not valid UTF-8 ({hint})", row=row,
                         column=column)


def _refuse_binary(data: bytes, path: Path) -> None:
    """NUL bytes, or many control characters near the start: not a text file."""
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataReadError(str(path), "contains a NUL byte (0x00): a binary file, not CSV "
                            "text", row=line_of_offset(data, nul))
    head = np.frombuffer(data[:65536], dtype=np.uint8)
    control = ((head < 32) & ~np.isin(head, (9, 10, 13))) | (head == 127)
    if control.mean() > 0.01:
        first = int(np.flatnonzero(control)[0])
        raise DataReadError(str(path), f"contains control bytes (0x{head[first]:02X} and "
                            f"{int(control.sum()) - 1:,} more): a binary file, not CSV text",
                            row=line_of_offset(data, first))


def _header(text: str) -> list[str]:
    """The first non-blank record, read with the csv module."""
    for row in csv.reader(io.StringIO(text, newline="")):
        if row and not (len(row) == 1 and not row[0].strip(" \t")):
            return row
    return []


def _check_header(names: list[str], path: Path, line: int) -> None:
    for i, name in enumerate(names):
        if not name.strip():
            raise DataReadError(str(path), f"field {i + 1} of the header has no column name",
                                row=line)
    counts = Counter(names)
    for name, n in counts.items():
        if n > 1:
            where = [str(i + 1) for i, other in enumerate(names) if other == name]
            raise DataReadError(str(path), f"column {name} appears {n} times in the header "
                                f"(fields {', '.join(where)}); name each column once",
                                row=line, column=name)


def _check_fields(layout: Layout, width: int, path: Path, open_quote: bool = False) -> None:
    """Every record has the header's number of fields. ``open_quote``: the byte scan ended
    inside quotes, so a wrong last record is a quoted field that runs to the end of the file."""
    wrong = np.flatnonzero(layout.fields[1:] != width)
    if wrong.size:
        first = int(wrong[0]) + 1
        if open_quote and first == layout.records - 1:
            raise DataReadError(str(path), 'a quoted field is never closed (a " is missing)',
                                row=int(layout.lines[first]))
        more = f" ({wrong.size - 1:,} more records also have the wrong number)" \
            if wrong.size > 1 else ""
        n = int(layout.fields[first])
        raise DataReadError(str(path), f"this record has {n} field{'s' * (n != 1)}, the "
                            f"header has {width}{more}", row=int(layout.lines[first]))


def read_csv(path: Path) -> pd.DataFrame:
    """The file's records as text categories; index = start line - 2 (see module doc)."""
    data = Path(path).read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM):]
    if not data.strip():
        raise DataReadError(str(path), "the file is empty (expected a header row and records)",
                            row=1)
    _refuse_binary(data, path)
    try:
        data.decode("utf-8")  # checked here to name the line of a bad byte
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, exc, path) from None
    layout = scan(data)
    names = _header(data[:layout.header_end].decode("utf-8"))
    _check_header(names, path, int(layout.lines[0]))
    try:
        with warnings.catch_warnings():  # a record of the wrong width is reported below
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            frame = pd.read_csv(io.BytesIO(data), dtype="category", keep_default_na=False,
                                na_values=[], header=0, index_col=False,
                                skip_blank_lines=True, encoding="utf-8", low_memory=True)
    except (pd.errors.ParserError, ValueError) as exc:
        if layout.unclosed_quote_line is not None:
            raise DataReadError(str(path), 'a quoted field is never closed (a " is missing)',
                                row=layout.unclosed_quote_line) from None
        _check_fields(scan_text(data.decode("utf-8")), len(names), path)  # the csv module

        raise DataReadError(str(path), f"not a well-formed CSV file: {exc}") from None
    open_quote = layout.unclosed_quote_line is not None
    if layout.records != len(frame) + 1 or (layout.fields[1:] != len(names)).any():
        # a quote inside an unquoted field misleads the fast scan: read with the csv module
        layout = scan_text(data.decode("utf-8"))
    _check_fields(layout, len(names), path, open_quote)
    if layout.records != len(frame) + 1 or frame.shape[1] != len(names):
        raise DataReadError(str(path), "the records could not be numbered reliably (pandas "
                            f"read {len(frame):,}, the line scan found {layout.records - 1:,})")
    frame.columns = names
    frame.index = pd.Index(layout.lines[1:] - 2)
    for name in names:
        column = frame[name]
        if "" in column.cat.categories:
            frame[name] = column.cat.remove_categories([""])
    return frame
