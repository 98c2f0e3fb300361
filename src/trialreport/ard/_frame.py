"""Building blocks of ARD rows: the contract's columns and dtypes, built vectorised.

The contract (``docs/ard.md``): columns ``analysis, population, group, variable, category,
statistic, value, method``; text columns hold Python ``str`` ("" for none), ``value`` is float64
at full precision (NaN = not estimable).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "KEY", "TEXT_COLUMNS", "concat_frames", "empty_frame", "long_frame",
           "normalise", "records_frame", "stack_statistics"]

COLUMNS: tuple[str, ...] = ("analysis", "population", "group", "variable", "category",
                            "statistic", "value", "method")
KEY: tuple[str, ...] = COLUMNS[:6]
TEXT_COLUMNS = tuple(c for c in COLUMNS if c != "value")
_TEXT = TEXT_COLUMNS


# --------------------------------------------------------------------------------------


def empty_frame() -> pd.DataFrame:
    """An ARD frame with no rows and the contract's columns and dtypes."""
    frame = pd.DataFrame({c: pd.Series(dtype=object) for c in _TEXT})
    frame["value"] = pd.Series(dtype=float)
    return frame[list(COLUMNS)]


def _text(values: Any, n: int) -> np.ndarray:
    """Text column: str values kept, None/NaN as "", anything else via ``str``."""
    if isinstance(values, str):
        return np.full(n, values, dtype=object)
    arr = np.asarray(values, dtype=object)
    return np.array([v if isinstance(v, str) else
                     ("" if v is None or (isinstance(v, float) and v != v) else str(v))
                     for v in arr], dtype=object)


def normalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Contract column order and dtypes (text as Python str, value as float64)."""
    n = len(frame)
    if n == 0:
        return empty_frame()
    data = {c: _text(frame[c].to_numpy(dtype=object) if c in frame else "", n) for c in _TEXT}
    data["value"] = pd.to_numeric(pd.Series(frame["value"].to_numpy()), errors="coerce") \
        .to_numpy(dtype=float)
    return pd.DataFrame(data, columns=list(COLUMNS))


def long_frame(value: Any, **columns: Any) -> pd.DataFrame:
    """ARD rows from equal-length arrays (scalars are broadcast); missing text columns are ""."""
    values = np.asarray(value, dtype=float).ravel()
    n = len(values)
    if n == 0:
        return empty_frame()
    data = {c: _text(columns.get(c, ""), n) for c in _TEXT}
    for c, col in data.items():
        if len(col) != n:
            raise ValueError(f"column {c!r} has {len(col)} values, expected {n}")
    data["value"] = values
    return pd.DataFrame(data, columns=list(COLUMNS))


def records_frame(records: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """ARD rows from dicts; ``category`` and ``method`` default to ""."""
    rows = list(records)
    if not rows:
        return empty_frame()
    return normalise(pd.DataFrame.from_records(rows))


def stack_statistics(wide: pd.DataFrame, statistics: Sequence[str],
                     methods: Mapping[str, str] | None = None, **constants: str) -> pd.DataFrame:
    """Long ARD rows from a wide frame with one column per statistic (vectorised melt).

    Parameters
    ----------
    wide : DataFrame
        One row per result cell; may hold any of the key columns (``group``, ``variable``,
        ``category``, ...) and one numeric column per statistic.
    statistics : sequence of str
        Statistic columns, in output order (within each row of ``wide``).
    methods : mapping, optional
        Method name per statistic (default "").
    **constants : str
        Key columns with one value for every row (e.g. ``analysis="efficacy"``).

    Returns
    -------
    DataFrame
        ``len(wide) * len(statistics)`` rows: row 1 statistics 1..k, row 2 statistics 1..k, ...
    """
    stats = list(statistics)
    n, k = len(wide), len(stats)
    if n == 0 or k == 0:
        return empty_frame()
    methods = methods or {}
    cols: dict[str, Any] = {"statistic": np.tile(np.array(stats, dtype=object), n)}
    for col in _TEXT:
        if col == "statistic":
            continue
        if col in constants:
            cols[col] = constants[col]
        elif col in wide:
            cols[col] = np.repeat(wide[col].to_numpy(dtype=object), k)
        elif col == "method":
            cols[col] = np.tile(np.array([methods.get(s, "") for s in stats], dtype=object), n)
    return long_frame(wide[stats].to_numpy(dtype=float).ravel(), **cols)


def concat_frames(frames: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Row-bind ARD frames in order (empty ones skipped)."""
    parts = [f for f in frames if f is not None and not f.empty]
    if not parts:
        return empty_frame()
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    return pd.concat(parts, ignore_index=True)


