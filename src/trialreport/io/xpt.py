"""Read a SAS transport file (XPORT version 5 or 8) as text plus its metadata.

pyreadstat (ReadStat) parses the file. Values come back as text like the CSV reader's: numbers
exact (``0`` is ``"0"``, integers without ``.0``, other numbers as their shortest repr),
dates, datetimes and times decided by the variable's SAS format as ISO 8601 text, character
values without SAS's trailing blanks, and every missing value (``.``, ``.A``-``.Z``, ``._``
and blank text) as ``None``; the special missing code of each value stays in the metadata
(:attr:`VariableMeta.special_missing`). Record 1 is row 1 (DataFrame index 0).

Why not ``pandas.read_sas``: it applies no SAS format (a DATE9. date is a day count such as
19341), turns an exact IBM-float zero into 5.4e-79 and can drop the last record. Why the
dates are converted here rather than by pyreadstat: pyreadstat truncates fractional negative
day counts towards zero (SAS floors), folds TIME durations of 24 hours or more into a time of
day, reads DTDATE (a datetime format) as a day count and overflows after the year 9999;
here the raw numbers are converted with integer arithmetic (SAS day 0 and second 0 are
1960-01-01T00:00:00).
"""

from __future__ import annotations

import mmap
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from trialreport.io.meta import TableMeta, VariableMeta, numbers_as_text, trim_fraction
from trialreport.io.readers import DataReadError

__all__ = ["DATE_FORMATS", "DATETIME_FORMATS", "TIME_FORMATS", "format_kind", "read_xpt"]

#: SAS formats whose values are day counts since 1960-01-01 (shown whole or in part).
DATE_FORMATS = frozenset({
    "DATE", "DAY", "DDMMYY", "DDMMYYB", "DDMMYYC", "DDMMYYD", "DDMMYYN", "DDMMYYP", "DDMMYYS",
    "DOWNAME", "E8601DA", "B8601DA", "IS8601DA", "EURDFDD", "EURDFDE", "EURDFMY", "JULDAY",
    "JULIAN", "MMDDYY", "MMDDYYB", "MMDDYYC", "MMDDYYD", "MMDDYYN", "MMDDYYP", "MMDDYYS",
    "MMYY", "MMYYC", "MMYYD", "MMYYN", "MMYYP", "MMYYS", "MONNAME", "MONTH", "MONYY", "NLDATE",
    "QTR", "WEEKDATE", "WEEKDATX", "WEEKDAY", "WORDDATE", "WORDDATX", "YEAR", "YYMM", "YYMMC",
    "YYMMD", "YYMMDD", "YYMMDDB", "YYMMDDC", "YYMMDDD", "YYMMDDN", "YYMMDDP", "YYMMDDS", "YYMMN",
    "YYMMP", "YYMMS", "YYMON", "YYQ", "YYQC", "YYQD", "YYQN", "YYQP", "YYQS"})
#: SAS formats whose values are seconds since 1960-01-01T00:00:00.
DATETIME_FORMATS = frozenset({
    "DATETIME", "DATEAMPM", "MDYAMPM", "E8601DT", "B8601DT", "IS8601DT", "E8601DZ", "B8601DZ",
    "IS8601DZ", "E8601LX", "NLDATM"})
#: SAS formats that show only the date part of a datetime value (seconds).
DATETIME_DATE_FORMATS = frozenset({"DTDATE", "E8601DN", "B8601DN"})
#: SAS formats whose values are seconds since midnight (or a duration).
TIME_FORMATS = frozenset({
    "TIME", "TOD", "HHMM", "HOUR", "MMSS", "TIMEAMPM", "E8601TM", "B8601TM", "IS8601TM",
    "E8601TZ", "NLTIME"})

_FORMAT = re.compile(r"^(\$?(?:[A-Z_]|[A-Z_][A-Z0-9_]*[A-Z_]))?(\d*)(?:\.(\d*))?$")
_HEADER = b"HEADER RECORD*******"
_SAS_EPOCH_DAY = np.datetime64("1960-01-01", "D")
_FIRST_DAY = int((np.datetime64("0001-01-01", "D") - _SAS_EPOCH_DAY).astype(int))
_LAST_DAY = int((np.datetime64("9999-12-31", "D") - _SAS_EPOCH_DAY).astype(int))
_US_PER_DAY = 86_400_000_000
#: Environment variable naming the text encoding of transport files (default UTF-8).
ENCODING_VARIABLE = "TRIALREPORT_XPT_ENCODING"


def _format_name(sas_format: str | None) -> str:
    """``DATE9.`` -> ``DATE``; ``E8601DT19.3`` -> ``E8601DT``; ``8.2`` -> ``""``."""
    match = _FORMAT.match((sas_format or "").strip().upper())
    return (match.group(1) or "") if match else ""


def format_kind(sas_format: str | None) -> str | None:
    """``"date"``, ``"datetime"`` or ``"time"`` for a SAS format such as ``"DATE9."``,
    ``"E8601DT19."`` or ``"TIME8."`` (``DTDATE9.`` shows a datetime as a date: ``"date"``);
    ``None`` for any other format."""
    name = _format_name(sas_format)
    if name in DATE_FORMATS or name in DATETIME_DATE_FORMATS:
        return "date"
    if name in DATETIME_FORMATS:
        return "datetime"
    if name in TIME_FORMATS:
        return "time"
    return None


def _format_text(raw: str | None) -> str | None:
    """SAS's own spelling of a format as ReadStat reports it: ``DATE9`` -> ``DATE9.``."""
    if not raw:
        return None
    return raw if "." in raw else f"{raw}."


@dataclass(frozen=True)
class _Layout:
    version: int
    members: int
    data_start: int
    declared_rows: int | None


def _layout(path: Path) -> _Layout:
    """Version, member count and where the records start, from the 80-byte header records.

    ReadStat reports neither a second member nor a file cut short (it stops at the last whole
    record), so both are checked here against the header records of the XPORT layout (SAS
    technical note TS-140).
    """
    size = path.stat().st_size
    if size == 0:
        raise DataReadError(str(path), "the file is empty (not a SAS transport file)")
    with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m:
        first = m[:80]
        if not first.startswith(_HEADER + b"LIB"):
            raise DataReadError(str(path), "not a SAS transport (XPORT) file: it does not "
                                "start with a library header record")
        version = 8 if first[20:25] == b"LIBV8" else 5
        members = 0
        data_start = -1
        declared: int | None = None
        position = m.find(_HEADER, 0)
        while position >= 0:
            if position % 80 == 0:
                kind = m[position + 20:position + 28]
                if kind.startswith(b"MEMB"):
                    members += 1
                elif kind.startswith(b"OBS") and data_start < 0:
                    data_start = position + 80
                    count = m[position + 48:position + 80].strip()
                    declared = int(count) if version == 8 and count.isdigit() else None
            position = m.find(_HEADER, position + 1)
    if data_start < 0:
        raise DataReadError(str(path), "not a readable SAS transport file: no observation "
                            "header record (the file is cut short or damaged)")
    return _Layout(version, members, data_start, declared)


def _check_complete(path: Path, layout: _Layout, rows: int, row_length: int) -> None:
    """After the last record read only blank padding may remain (else rows were lost)."""
    if layout.declared_rows is not None and layout.declared_rows != rows:
        raise DataReadError(str(path), f"the header declares {layout.declared_rows} records "
                            f"but {rows} could be read (the file is cut short or damaged)")
    end = layout.data_start + rows * row_length
    size = path.stat().st_size
    with path.open("rb") as handle:
        handle.seek(end)
        tail = handle.read(size - end) if size > end else b""
    if size < end or tail.strip(b" "):
        raise DataReadError(str(path), f"the file ends inside record {rows + 1} (it is cut "
                            "short or damaged)", row=rows + 1)


def _undecodable(path: Path, encoding: str) -> DataReadError:
    """Name the first row and column whose text is not valid in ``encoding``."""
    try:
        frame, meta = pyreadstat.read_xport(str(path), encoding="LATIN1",
                                            disable_datetime_conversion=True)
    except Exception:  # the names or labels themselves are undecodable: no row to name
        return DataReadError(str(path), f"a name or label is not valid {encoding} text (set "
                             f"{ENCODING_VARIABLE}, e.g. to windows-1252)")
    for column in frame.columns:
        if meta.readstat_variable_types.get(column) != "string":
            continue
        for index, value in frame[column].items():
            try:
                str(value).encode("latin-1").decode(encoding)
            except UnicodeDecodeError:
                return DataReadError(str(path), f"text is not valid {encoding} (set "
                                     f"{ENCODING_VARIABLE}, e.g. to windows-1252, if the file "
                                     "was written in a Latin-1 SAS session)",
                                     row=int(index) + 1, column=str(column))
    return DataReadError(str(path), f"a name or label is not valid {encoding} text (set "
                         f"{ENCODING_VARIABLE}, e.g. to windows-1252)")


def _read_raw(path: Path, encoding: str) -> tuple[pd.DataFrame, object]:
    # pyreadstat's public read_xport does not pass ``user_missing`` on; its parser entry point
    # does, and ReadStat then returns special missing values (.A-.Z, ._) as their letter.
    from pyreadstat._readstat_parser import parser_entry_point

    try:
        frame, meta = parser_entry_point(str(path), "xport", encoding=encoding,
                                         user_missing=True, disable_datetime_conversion=True)
    except UnicodeDecodeError:
        raise _undecodable(path, encoding) from None
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, ValueError, OSError,
            OverflowError) as exc:
        raise DataReadError(str(path), f"not a readable SAS transport (XPORT) file: {exc}") \
            from None
    return frame, meta


def _days_to_iso(days: np.ndarray, path: Path, column: str, rows: np.ndarray) -> list[str]:
    whole = np.floor(days).astype("int64")  # SAS shows the day a fractional count falls in
    bad = (whole < _FIRST_DAY) | (whole > _LAST_DAY)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataReadError(str(path), f"day count {float(days[i])!r} is not a date in the years "
                            "1-9999", row=int(rows[i]) + 1, column=column)
    return list(np.datetime_as_string(_SAS_EPOCH_DAY + whole.astype("timedelta64[D]"),
                                      unit="D"))


def _seconds_to_iso(seconds: np.ndarray, path: Path, column: str, rows: np.ndarray
                    ) -> list[str]:
    micro = np.round(seconds * 1_000_000)
    bad = (micro < _FIRST_DAY * float(_US_PER_DAY)) | (micro >= (_LAST_DAY + 1) * float(
        _US_PER_DAY))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataReadError(str(path), f"{float(seconds[i])!r} seconds is not a datetime in the "
                            "years 1-9999", row=int(rows[i]) + 1, column=column)
    stamps = _SAS_EPOCH_DAY.astype("datetime64[us]") + micro.astype("int64").astype(
        "timedelta64[us]")
    return [trim_fraction(str(text)) for text in np.datetime_as_string(stamps, unit="us")]


def _clock(seconds: float) -> str:
    """Seconds since midnight (or a duration) as ``[-]HH:MM:SS[.ffffff]``; hours may pass
    23 as in SAS's TIME format."""
    micro = round(seconds * 1_000_000)
    sign = "-" if micro < 0 else ""
    whole, fraction = divmod(abs(micro), 1_000_000)
    hours, rest = divmod(whole, 3600)
    text = f"{sign}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
    return text + (f".{fraction:06d}".rstrip("0") if fraction else "")


def _numeric_column(values: pd.Series, sas_format: str | None, path: Path, column: str
                    ) -> tuple[np.ndarray, dict[int, str]]:
    """Text for one numeric column and the special missing codes by row (record 1 = row 1)."""
    special: dict[int, str] = {}
    raw = values.to_numpy(dtype=object) if values.dtype == object else values.to_numpy()
    if values.dtype == object:
        numbers = np.full(len(raw), np.nan)
        for i, value in enumerate(raw):
            if isinstance(value, str):
                special[i + 1] = value  # .A-.Z or ._: missing, its code kept
            elif value is not None:
                numbers[i] = float(value)
    else:
        numbers = raw.astype("float64")
    present = np.flatnonzero(~np.isnan(numbers))
    kind = format_kind(sas_format)
    if kind is None:
        return numbers_as_text(numbers), special
    out = np.full(len(numbers), None, dtype=object)
    if kind == "date" and _format_name(sas_format) in DATETIME_DATE_FORMATS:
        texts = [t[:10] for t in _seconds_to_iso(numbers[present], path, column, present)]
    elif kind == "date":
        texts = _days_to_iso(numbers[present], path, column, present)
    elif kind == "datetime":
        texts = _seconds_to_iso(numbers[present], path, column, present)
    else:
        texts = [_clock(float(v)) for v in numbers[present]]
    if len(present):
        out[present] = [str(text) for text in texts]
    return out, special


def _character_column(values: pd.Series) -> np.ndarray:
    """Blank text is missing. (ReadStat already drops SAS's trailing blanks; a test holds it
    to that.)"""
    text = values.to_numpy(dtype=object).copy()
    text[(text == "") | pd.isna(text)] = None
    return text


def read_xpt(path: Path, encoding: str | None = None) -> tuple[pd.DataFrame, TableMeta]:
    """Read one SAS transport file (v5 or v8) as text plus its metadata.

    ``encoding`` is the text encoding of names, labels and values (default: the environment
    variable ``TRIALREPORT_XPT_ENCODING``, else UTF-8, which also reads plain ASCII). Raises
    :class:`DataReadError` naming the file (and row and column where known) for an empty,
    damaged, cut-short, multi-member or undecodable file.
    """
    path = Path(path)
    encoding = encoding or os.environ.get(ENCODING_VARIABLE) or "UTF-8"
    layout = _layout(path)
    if layout.members != 1:
        raise DataReadError(str(path), f"the transport file holds {layout.members} datasets; "
                            "trialreport reads one dataset per file")
    frame, meta = _read_raw(path, encoding)
    widths = meta.variable_storage_width
    _check_complete(path, layout, len(frame), sum(int(widths[c]) for c in frame.columns))
    columns: dict[str, np.ndarray] = {}
    variables = []
    for name in frame.columns:
        sas_format = _format_text(meta.original_variable_types.get(name))
        numeric = meta.readstat_variable_types.get(name) != "string"
        kind = format_kind(sas_format) if numeric else None
        special: dict[int, str] = {}
        if numeric:
            columns[name], special = _numeric_column(frame[name], sas_format, path, name)
        else:
            columns[name] = _character_column(frame[name])
        variables.append(VariableMeta(
            name=name, label=meta.column_names_to_labels.get(name) or None,
            type="numeric" if numeric else "character", length=int(widths[name]),
            format=sas_format, kind=kind, special_missing=special))
    text = pd.DataFrame(columns, index=pd.RangeIndex(len(frame)), dtype=object)
    text = text.reindex(columns=list(frame.columns))
    return text, TableMeta(file=str(path), file_format="xpt", name=meta.table_name or None,
                           label=meta.file_label or None, version=layout.version,
                           variables=tuple(variables))
