"""The ARD object: the contract table plus provenance metadata, with lookups and JSON/CSV."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialreport.ard._frame import COLUMNS, KEY, TEXT_COLUMNS, empty_frame, normalise

__all__ = ["ARD", "ARDError", "POPULATION"]

#: The analysis id of the big-N rows every ARD has (``variable="N"``, ``statistic="n"``).
POPULATION = "population"

_TEXT = TEXT_COLUMNS


class ARDError(ValueError):
    """An ARD breaks the contract (lists every problem)."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("ARD contract violated:\n" + "\n".join(f"  {p}" for p in self.problems))


# --------------------------------------------------------------------------------------


def _nan_to_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


@dataclass
class ARD:
    """Analysis results data: ``frame`` (the contract table) and provenance ``metadata``."""

    frame: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    # -- access ---------------------------------------------------------------------------
    @property
    def outputs(self) -> dict[str, dict[str, Any]]:
        """Outputs whose rows the ARD holds: name -> ``{number, type, kind, title, population}``
        (from the metadata)."""
        return dict(self.metadata.get("outputs", {}))

    def analyses_of(self, *types: str) -> list[str]:
        """Names of the outputs (ARD ``analysis`` values) of the given output types."""
        return [name for name, o in self.outputs.items() if o.get("type") in types]

    @property
    def total_label(self) -> str:
        """The study's all-arms group label ("Total")."""
        return str(self.metadata.get("total_label", "Total"))

    def select(self, analysis: str | None = None, variable: str | None = None,
               statistic: str | None = None, group: str | None = None,
               category: str | None = None, population: str | None = None) -> pd.DataFrame:
        """Rows matching every given key value (``None`` = any)."""
        mask = np.ones(len(self.frame), dtype=bool)
        for col, want in (("analysis", analysis), ("variable", variable),
                          ("statistic", statistic), ("group", group), ("category", category),
                          ("population", population)):
            if want is not None:
                mask &= (self.frame[col] == str(want)).to_numpy()
        return self.frame[mask]

    def get(self, analysis: str, variable: str, statistic: str, group: str | None = None,
            category: str = "", population: str | None = None) -> float:
        """The single value of one key (``group`` defaults to the total label).

        Raises ``KeyError`` when no row or more than one row matches.
        """
        group = self.total_label if group is None else group
        rows = self.select(analysis, variable, statistic, group, category, population)
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} ARD rows for analysis={analysis!r} "
                           f"variable={variable!r} statistic={statistic!r} group={group!r} "
                           f"category={category!r} population={population!r}")
        return float(rows["value"].iloc[0])

    def method(self, analysis: str, variable: str, statistic: str, group: str | None = None,
               category: str = "", population: str | None = None) -> str:
        """The method name stored with one key."""
        group = self.total_label if group is None else group
        rows = self.select(analysis, variable, statistic, group, category, population)
        if len(rows) != 1:
            raise KeyError(f"{len(rows)} ARD rows for {analysis}/{variable}/{statistic}")
        return str(rows["method"].iloc[0])

    # -- contract -------------------------------------------------------------------------
    def problems(self) -> list[str]:
        """Every way the frame breaks the contract (empty list when it is valid)."""
        f = self.frame
        found: list[str] = []
        if tuple(f.columns) != COLUMNS:
            return [f"columns are {list(f.columns)}, expected {list(COLUMNS)}"]
        for col in _TEXT:
            bad = ~f[col].map(lambda v: isinstance(v, str)).astype(bool)
            if bad.any():
                found.append(f"column {col!r}: {int(bad.sum())} value(s) are not text")
        if not pd.api.types.is_float_dtype(f["value"]):
            found.append(f"column 'value' has dtype {f['value'].dtype}, expected float")
        known = {POPULATION, *self.outputs}
        unknown = sorted(set(f["analysis"]) - known)
        if unknown:
            found.append(f"analysis id(s) that are neither {POPULATION!r} nor an output in the "
                         f"metadata: {unknown}")
        dup = f.duplicated(list(KEY), keep=False)
        if dup.any():
            first = f.loc[dup, list(KEY)].iloc[0].tolist()
            found.append(f"key not unique: {int(dup.sum())} rows share a key, e.g. {first}")
        counts = f["statistic"].isin(["n", "N", "nmiss", "subjects", "events", "censored"])
        values = f["value"].to_numpy(dtype=float)
        neg = counts.to_numpy() & (values < 0)
        if neg.any():
            found.append(f"{int(neg.sum())} negative count(s)")
        pct = (f["statistic"] == "pct").to_numpy() & ((values < 0) | (values > 100))
        if pct.any():
            found.append(f"{int(pct.sum())} percentage(s) outside 0-100")
        return found

    def validate(self) -> ARD:
        """Raise :class:`ARDError` when the contract is broken; return ``self`` otherwise."""
        problems = self.problems()
        if problems:
            raise ARDError(problems)
        return self

    def equals(self, other: ARD) -> bool:
        """Same rows (NaN equal to NaN) and same metadata."""
        return self.frame.equals(other.frame) and self.metadata == other.metadata

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"metadata": ..., "results": [records]}`` with NaN as ``None``."""
        cols = {c: self.frame[c].tolist() for c in COLUMNS}
        cols["value"] = [_nan_to_none(v) for v in cols["value"]]
        results = [dict(zip(COLUMNS, row, strict=True))
                   for row in zip(*(cols[c] for c in COLUMNS), strict=True)]
        return {"metadata": self.metadata, "results": results}

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise as JSON (UTF-8, LF, one result record per line); also write ``path``.

        Floats are written with ``repr`` (shortest exact round trip), NaN as ``null``.
        """
        from trialreport.ardjson import dumps

        text = dumps(self.to_dict())
        if path is not None:
            Path(path).write_text(text, encoding="utf-8", newline="\n")
        return text

    def to_csv(self, path: str | Path | None = None) -> str:
        """Serialise the results table as CSV (NaN as empty); also write ``path`` if given.

        Floats are written with ``repr`` (shortest string that round-trips float64 exactly).
        CSV holds no metadata; use JSON for the full ARD.
        """
        buf = io.StringIO()
        self.frame.to_csv(buf, index=False, lineterminator="\n",
                          float_format=lambda x: repr(float(x)))
        text = buf.getvalue()
        if path is not None:
            Path(path).write_text(text, encoding="utf-8", newline="\n")
        return text

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> ARD:
        """Inverse of :meth:`to_dict`."""
        results = list(obj.get("results", []))
        if not results:
            return cls(empty_frame(), dict(obj.get("metadata", {})))
        frame = pd.DataFrame.from_records(results, columns=list(COLUMNS))
        frame["value"] = frame["value"].astype(object).where(frame["value"].notna(), np.nan)
        return cls(normalise(frame), dict(obj.get("metadata", {})))

    @classmethod
    def from_json(cls, source: str | Path) -> ARD:
        """Read an ARD from a JSON file path or a JSON string."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            text = Path(source).read_text(encoding="utf-8")
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_csv(cls, source: str | Path, metadata: Mapping[str, Any] | None = None) -> ARD:
        """Read the results table from a CSV file path or CSV text (metadata is not in CSV)."""
        text = str(source)
        if not text.startswith(",".join(COLUMNS)):
            text = Path(source).read_text(encoding="utf-8")
        raw = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
        raw["value"] = np.array([float(v) if v != "" else np.nan for v in raw["value"]],
                                dtype=float)  # float() parses exactly; pandas' parser may not
        return cls(normalise(raw), dict(metadata or {}))


