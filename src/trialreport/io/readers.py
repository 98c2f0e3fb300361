"""Read one dataset file into a DataFrame of strings, with errors that name file, row and column.

Every value is read as text (missing values as ``None``) so that the validator, not the reader,
decides what a value means; rows are numbered as a person sees them in the file (line 1 is the
CSV header, so the first record is row 2; SAS transport and Parquet records count from 1).
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trialreport.io.meta import TableMeta, VariableMeta

# Files above 512 MiB are refused (override with TRIALREPORT_MAX_FILE_MB).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
SUFFIXES = (".csv", ".xpt", ".parquet")
# Formats whose first record is row 1 (a CSV header is row 1, so its first record is row 2).
RECORD_ONE_IS_ROW_ONE = (".xpt", ".parquet")
BOM = b"\xef\xbb\xbf"


@dataclass
class DataReadError(Exception):
    """A file cannot be read; names the file and, where known, the row and column."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


def max_bytes() -> int:
    """The size limit in bytes (environment variable TRIALREPORT_MAX_FILE_MB, in MiB)."""
    env = os.environ.get("TRIALREPORT_MAX_FILE_MB")
    return int(float(env) * 1024 * 1024) if env else DEFAULT_MAX_BYTES


def find_data_file(folder: Path, stem: str) -> Path | None:
    """The CSV, SAS transport or Parquet file for dataset ``stem`` in ``folder`` (in that
    order of preference; the stem as given, in upper or lower case, the suffix in either)."""
    for suffix in SUFFIXES:
        for name in dict.fromkeys((stem, stem.upper(), stem.lower())):
            for ending in (suffix, suffix.upper()):
                candidate = folder / f"{name}{ending}"
                if candidate.is_file():
                    return candidate
    return None


def _first_bad_utf8(data: bytes, path: Path) -> DataReadError:
    """Locate the first byte that is not UTF-8 as a (row, column) of the CSV."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        row = data.count(b"\n", 0, exc.start) + 1
        end = data.find(b"\n", exc.start)
        line = data[start:end if end >= 0 else len(data)].decode("utf-8", errors="replace")
        header = next(csv.reader([data.split(b"\n", 1)[0].decode("utf-8", errors="replace")]))
        fields = next(csv.reader([line]), [])
        column = None
        for i, value in enumerate(fields):
            if "\ufffd" in value:
                column = header[i] if i < len(header) else f"field {i + 1}"
                break
        byte = data[exc.start:exc.start + 1].hex().upper()
        return DataReadError(str(path), f"byte 0x{byte} is not valid UTF-8 (save the file as "
                             "UTF-8)", row=row, column=column)
    raise AssertionError("unreachable")  # pragma: no cover


def _read_csv(path: Path) -> pd.DataFrame:
    data = path.read_bytes()
    if data.startswith(BOM):
        data = data[len(BOM):]
    if not data.strip():
        raise DataReadError(str(path), "the file is empty (expected a header row and records)",
                            row=1)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _first_bad_utf8(data, path) from None
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            na_values=[""], skipinitialspace=False, skip_blank_lines=False)
    except pd.errors.ParserError as exc:
        raise DataReadError(str(path), f"not a well-formed CSV file: {exc}") from None
    # Blank lines are dropped after reading, so the index still counts every line of the file
    # and row numbers in messages stay those a person sees.
    frame = frame[frame.notna().any(axis=1)]
    return frame.astype(object).where(frame.notna(), None)


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, byte-order mark accepted), SAS transport or Parquet file as text.

    Raises :class:`DataReadError` for a missing, oversized, empty, non-UTF-8 or malformed file.
    """
    return read_table_with_meta(path)[0]


def read_table_with_meta(path: Path) -> tuple[pd.DataFrame, TableMeta]:
    """:func:`read_table` plus what the file says about its columns (:class:`TableMeta`:
    labels, SAS formats, lengths, storage types, special missing codes; names only for CSV)."""
    path = Path(path)
    if not path.is_file():
        raise DataReadError(str(path), "file not found")
    size = path.stat().st_size
    limit = max_bytes()
    if size > limit:
        raise DataReadError(str(path), f"file is {size / 2**20:.1f} MiB, above the limit of "
                            f"{limit / 2**20:.1f} MiB (set TRIALREPORT_MAX_FILE_MB to raise it)")
    suffix = path.suffix.lower()
    if suffix == ".xpt":
        from trialreport.io.xpt import read_xpt

        return read_xpt(path)
    if suffix == ".parquet":
        from trialreport.io.parquet import read_parquet

        return read_parquet(path)
    frame = _read_csv(path)
    return frame, TableMeta(file=str(path), file_format="csv",
                            variables=tuple(VariableMeta(name=str(c)) for c in frame.columns))


def row_number(path: Path, index: int) -> int:
    """The row a person sees for DataFrame index ``index`` (CSV: header is row 1)."""
    return index + (1 if Path(path).suffix.lower() in RECORD_ONE_IS_ROW_ONE else 2)
