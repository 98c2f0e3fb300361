"""Read one dataset file into a DataFrame of strings, with errors that name file, row and column.

Every value is read as text so that the validator, not the reader, decides what a value means
(CSV: each column a pandas ``category`` of the strings as written, the empty field missing, see
:mod:`trialreport.io.csv_reader`; SAS transport: ``object`` text, ``None`` missing). The frame's
index gives the row a person sees through :func:`row_number` (a CSV record's physical start line,
the header being line 1; SAS transport records count from 1).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from trialreport.io.csv_reader import read_csv
from trialreport.io.errors import DataReadError

# Files above 512 MiB are refused (override with TRIALREPORT_MAX_FILE_MB).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
SUFFIXES = (".csv", ".xpt")
SIZE_VARIABLE = "TRIALREPORT_MAX_FILE_MB"

__all__ = ["DEFAULT_MAX_BYTES", "DataReadError", "SizeLimitError", "find_data_file",
           "max_bytes", "read_table", "row_number"]


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
    """The CSV or SAS transport file for dataset ``stem`` in ``folder`` (CSV preferred)."""
    for suffix in SUFFIXES:
        for candidate in (folder / f"{stem}{suffix}", folder / f"{stem.upper()}{suffix}"):
            if candidate.is_file():
                return candidate
    return None


def _read_csv(path: Path) -> pd.DataFrame:
    return read_csv(path)


def _read_xpt(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_sas(path, format="xport", encoding="utf-8")
    except Exception as exc:  # pandas raises several types for a damaged transport file
        raise DataReadError(str(path), f"not a readable SAS transport (XPORT) file: {exc}") \
            from None

    def as_text(value: object) -> str | None:
        if value is None or (isinstance(value, float) and pd.isna(value)):
            return None
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
        text = str(value)
        return text if text.strip() else None

    return frame.map(as_text).astype(object)


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV (UTF-8, byte-order mark accepted) or SAS transport file as text.

    Raises :class:`DataReadError` for a missing, oversized, empty, non-UTF-8 or malformed file.
    """
    path = Path(path)
    if not path.is_file():
        raise DataReadError(str(path), "file not found")
    size = path.stat().st_size
    limit = max_bytes()
    if size > limit:
        raise DataReadError(str(path), f"file is {size / 2**20:.1f} MiB, above the limit of "
                            f"{limit / 2**20:.1f} MiB (set TRIALREPORT_MAX_FILE_MB to raise it)")
    if path.suffix.lower() == ".xpt":
        return _read_xpt(path)
    return _read_csv(path)


def row_number(path: Path, index: int) -> int:
    """The row a person sees for DataFrame index ``index`` (CSV: header is row 1)."""
    return index + (1 if Path(path).suffix.lower() == ".xpt" else 2)
