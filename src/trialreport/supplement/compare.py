"""Compare the results shipped in a supplement's ``ard.json`` with recomputed ones, by key
(analysis, population, group, variable, category, statistic)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from trialreport.supplement.manifest import printable

KEY_FIELDS = ("analysis", "population", "group", "variable", "category", "statistic")
REL_TOL = 1e-9
ABS_TOL = 1e-12  # values that should be 0 may differ by rounding noise across platforms

Key = tuple[str, ...]


def format_key(key: Key) -> str:
    """``analysis / population / group / variable / category / statistic``."""
    return " / ".join(f'"{k}"' if k == "" else k for k in key)


def _show(value: Any) -> str:
    """A value from an input, safe to print."""
    return printable(repr(value) if isinstance(value, str) else str(value))


@dataclass
class ResultComparison:
    """Recomputed results compared with the shipped ones."""

    total: int = 0
    reproduced: int = 0
    differing: list[tuple[Key, Any, Any]] = field(default_factory=list)
    missing: list[tuple[Key, Any]] = field(default_factory=list)  # shipped, not recomputed
    extra: list[tuple[Key, Any]] = field(default_factory=list)  # recomputed only
    duplicates: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every shipped result was reproduced and none is extra."""
        return (self.reproduced == self.total and not self.extra and not self.missing
                and not self.differing and not self.duplicates)

    def lines(self) -> list[str]:
        """The summary line and one line per problem (key, shipped, recomputed)."""
        out = [f"reproduced {self.reproduced} of {self.total} results"]
        out += [f"  differs: {format_key(k)}: shipped {_show(a)}, recomputed {_show(b)}"
                for k, a, b in self.differing]
        out += [f"  not recomputed: {format_key(k)} (shipped {_show(v)})"
                for k, v in self.missing]
        out += [f"  not shipped: {format_key(k)} (recomputed {_show(v)})"
                for k, v in self.extra]
        out += [f"  {d}" for d in self.duplicates]
        return [printable(line) for line in out]


def _value(raw: Any) -> float:
    if raw is None or isinstance(raw, bool):
        return math.nan
    try:
        return float(raw)
    except (TypeError, ValueError, OverflowError):
        return math.nan


def values_equal(a: Any, b: Any, rel_tol: float = REL_TOL) -> bool:
    """Equal within ``rel_tol`` relative (and 1e-12 absolute), or both NaN/missing.

    A value that is neither a number nor null equals nothing (a text value never passes)."""
    for raw in (a, b):
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, int | float)):
            return False
    x, y = _value(a), _value(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    return math.isclose(x, y, rel_tol=rel_tol, abs_tol=ABS_TOL)


def _index(records: list[Any], label: str, problems: list[str]) -> dict[Key, dict]:
    index: dict[Key, dict] = {}
    for number, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            problems.append(f"result {number} in {label} is not an object")
            continue
        key = tuple("" if record.get(f) is None else str(record.get(f)) for f in KEY_FIELDS)
        if key in index:
            problems.append(f"duplicate result in {label}: {format_key(key)}")
        index[key] = record
    return index


def compare_results(shipped: list[Any], recomputed: list[Any],
                    rel_tol: float = REL_TOL) -> ResultComparison:
    """Compare result records by key; values within ``rel_tol`` or both NaN are equal, and the
    ``method`` must match too."""
    comparison = ResultComparison()
    want = _index(shipped, "the shipped ard.json", comparison.duplicates)
    got = _index(recomputed, "the recomputed results", comparison.duplicates)
    comparison.total = len(want)
    for key, record in want.items():
        other = got.get(key)
        if other is None:
            comparison.missing.append((key, record.get("value")))
            continue
        a, b = record.get("value"), other.get("value")
        if not values_equal(a, b, rel_tol):
            comparison.differing.append((key, a, b))
        elif (record.get("method") or "") != (other.get("method") or ""):
            comparison.differing.append((key, f"{a} (method {record.get('method')!r})",
                                         f"{b} (method {other.get('method')!r})"))
        else:
            comparison.reproduced += 1
    comparison.extra = [(k, r.get("value")) for k, r in got.items() if k not in want]
    return comparison


def load_results(path: Path) -> list[Any]:
    """The ``results`` records of an ``ard.json`` file (NaN, Infinity and null accepted).

    Raises ValueError (also for JSON nested too deeply to parse) or OSError."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except RecursionError:
        raise ValueError(f"{Path(path).name} is nested too deeply") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list):
        raise ValueError(f"{Path(path).name} has no 'results' list")
    return results
