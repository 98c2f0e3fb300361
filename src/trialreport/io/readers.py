"""Read one dataset file into a DataFrame of strings, with errors that name file, row and column.

Every value is read as text so that the validator, not the reader, decides what a value means
(CSV: each column a pandas ``category`` of the strings as written, the empty field missing, see
:mod:`trialreport.io.csv_reader`; SAS transport and Parquet: ``object`` text, ``None`` missing,
see :mod:`trialreport.io.xpt` and :mod:`trialreport.io.parquet`). The frame's index gives the row
a person sees through :func:`row_number` (a CSV record's physical start line, the header being
line 1; SAS transport and Parquet records count from 1).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from trialreport.io.csv_reader import read_csv
from trialreport.io.errors import DataReadError
from trialreport.io.meta import TableMeta, VariableMeta

# Files above 512 MiB are refused (override with TRIALREPORT_MAX_FILE_MB).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
SUFFIXES = (".csv", ".xpt", ".parquet")
# Formats whose first record is row 1 (a CSV header is row 1, so its first record is row 2).
RECORD_ONE_IS_ROW_ONE = (".xpt", ".parquet")
SIZE_VARIABLE = "TRIALREPORT_MAX_FILE_MB"

__all__ = ["DEFAULT_MAX_BYTES", "DataReadError", "SizeLimitError", "find_data_file",
           "max_bytes", "read_table", "read_table_with_meta", "row_number"]


class SizeLimitError(ValueError):
    """TRIALREPORT_MAX_FILE_MB is not a positive number of MiB (a usage error)."""


def max_bytes() -> int:
    """The size limit in bytes (environment variable TRIALREPORT_MAX_FILE_MB, in MiB)."""
    env = os.environ.get(SIZE_VARIABLE)
    if not env:
        return DEFAULT_MAX_BYTES
    try:
        mib = float(env)
    except ValueError:
        mib = math.nan
    if not math.isfinite(mib) or mib <= 0:
        raise SizeLimitError(f"{SIZE_VARIABLE} must be a positive number of MiB, not {env!r}")
    return int(mib * 1024 * 1024)


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
    frame = read_csv(path)
    return frame, TableMeta(file=str(path), file_format="csv",
                            variables=tuple(VariableMeta(name=str(c)) for c in frame.columns))


def row_number(path: Path, index: int) -> int:
    """The row a person sees for DataFrame index ``index`` (CSV: the index is the record's
    start line minus 2, the header being line 1; SAS transport and Parquet: record 1 is row
    1)."""
    return index + (1 if Path(path).suffix.lower() in RECORD_ONE_IS_ROW_ONE else 2)
