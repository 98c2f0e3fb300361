"""The analysis results data (ARD): one tidy long table of every number in the report.

The contract is ``docs/ard.md``: columns ``analysis, population, group, variable, category,
statistic, value, method``; values at full precision (no rounding); the key
``(analysis, population, group, variable, category, statistic)`` is unique and the row order is
deterministic (study-definition order). :func:`build_ard` runs every analysis that the study
definition and the available datasets allow and adds provenance metadata.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from trialreport.data import TrialData, load_trial
from trialreport.study import Study
from trialreport.versioning import sha256_file

__all__ = [
    "ANALYSES",
    "ARD",
    "ARDError",
    "COLUMNS",
    "KEY",
    "build_ard",
    "build_ard_from_paths",
    "concat_frames",
    "empty_frame",
    "long_frame",
    "records_frame",
    "stack_statistics",
]

COLUMNS: tuple[str, ...] = ("analysis", "population", "group", "variable", "category",
                            "statistic", "value", "method")
KEY: tuple[str, ...] = COLUMNS[:6]
_TEXT = tuple(c for c in COLUMNS if c != "value")
ANALYSES: tuple[str, ...] = ("population", "consort", "baseline", "exposure", "efficacy", "tte",
                             "ae_overview", "sae_soc_pt", "ae_soc_pt")
ARD_SCHEMA_VERSION = "1.0"
_PACKAGES = ("trialreport", "pandas", "numpy", "scipy", "lifelines", "pyyaml")


class ARDError(ValueError):
    """An ARD breaks the contract (lists every problem)."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("ARD contract violated:\n" + "\n".join(f"  {p}" for p in self.problems))


# --------------------------------------------------------------------------------------
# building blocks used by every analysis module
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


def _normalise(frame: pd.DataFrame) -> pd.DataFrame:
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
    return _normalise(pd.DataFrame.from_records(rows))


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


# --------------------------------------------------------------------------------------
# the ARD object
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
        unknown = sorted(set(f["analysis"]) - set(ANALYSES))
        if unknown:
            found.append(f"unknown analysis id(s): {unknown}")
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
        return cls(_normalise(frame), dict(obj.get("metadata", {})))

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
        return cls(_normalise(raw), dict(metadata or {}))


# --------------------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------------------


def _sha256_frame(frame: pd.DataFrame) -> str:
    """Content hash of an in-memory frame (row hashes and column names)."""
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, frame.columns)).encode())
    h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _package_versions() -> dict[str, str]:
    from trialreport.versioning import dist_version

    return {name: dist_version(name) for name in _PACKAGES}


def _display_path(path: Path) -> str:
    from trialreport.paths import project_root

    path = Path(path)
    try:
        return path.resolve().relative_to(project_root().resolve()).as_posix()
    except (ValueError, OSError):
        return path.as_posix()


def _study_checksum(study: Study) -> str:
    if study.path is not None and Path(study.path).is_file():
        return sha256_file(Path(study.path))
    canonical = json.dumps(study.raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ard_metadata(data: TrialData) -> dict[str, Any]:
    """Provenance of an ARD: study, inputs with SHA-256, package versions, version stamp."""
    study = data.study
    inputs = {}
    for role in sorted(data.frames):
        path = data.files.get(role)
        if path is not None and Path(path).is_file():
            inputs[role] = {"file": Path(path).name, "sha256": sha256_file(Path(path))}
        else:
            inputs[role] = {"file": "", "sha256": _sha256_frame(data.frames[role]),
                            "hashed": "in-memory frame"}
    study_sha = _study_checksum(study)
    combined = hashlib.sha256(
        (study_sha + "".join(f"{r}:{v['sha256']}" for r, v in inputs.items())).encode()
    ).hexdigest()
    versions = _package_versions()
    return {
        "ard_schema": ARD_SCHEMA_VERSION,
        "study_id": study.id,
        "study_definition": {
            "file": Path(study.path).name if study.path is not None else "",
            "sha256": study_sha,
        },
        "data_folder": _display_path(data.data_dir),
        "inputs": inputs,
        "arms": [{"code": a.code, "label": a.label} for a in study.arms],
        "total_label": study.total_label,
        "populations": {c: p.label for c, p in study.populations.items()},
        "packages": versions,
        "version_stamp": f"{study.id} ARD {ARD_SCHEMA_VERSION} / trialreport "
                         f"{versions['trialreport']} / inputs {combined[:12]}",
    }


# --------------------------------------------------------------------------------------
# build
# --------------------------------------------------------------------------------------


def analysis_frames(data: TrialData) -> list[pd.DataFrame]:
    """Each analysis' ARD rows, in contract order (analyses without data are empty)."""
    from trialreport.analysis import (
        baseline,
        consort,
        efficacy,
        populations,
        safety,
        time_to_event,
    )

    return [
        populations.population_ard(data),
        consort.consort_ard(data),
        baseline.baseline_ard(data),
        baseline.exposure_ard(data),
        efficacy.efficacy_ard(data),
        time_to_event.tte_ard(data),
        safety.safety_ard(data),
    ]


def build_ard(data: TrialData) -> ARD:
    """Run every analysis the study definition asks for on ``data``.

    Analyses whose dataset or study-definition section is absent are skipped. The result is
    deterministic: two builds from the same inputs are identical (rows, values, metadata).

    Raises
    ------
    ARDError
        If the assembled table breaks the contract (a bug, not a data problem).
    """
    frame = concat_frames(analysis_frames(data))
    return ARD(frame=frame, metadata=ard_metadata(data)).validate()


def build_ard_from_paths(data_dir: str | Path | None = None, spec_dir: str | Path | None = None,
                         study_file: str | Path | None = None) -> ARD:
    """Validate the data folder, load the study definition and build the ARD.

    ``None`` means the project default (``data/``, ``data_spec/``, ``data_spec/study.yml``).
    Raises :class:`trialreport.validation.DataValidationError` when the data break the
    specification.
    """
    data = load_trial(None if data_dir is None else Path(data_dir),
                      None if spec_dir is None else Path(spec_dir),
                      None if study_file is None else Path(study_file))
    return build_ard(data)
