"""Violations of the data specification, and the report that collects them.

Violations are kept as a table (one pandas frame per batch, built with whole-column operations),
because a broken million-record file can give a million of them; :class:`Violation` objects are
made only when asked for. The JSON report is written in chunks, atomically (a temporary file
renamed into place), so a failure never leaves half a report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

COLUMNS = ("severity", "dataset", "file", "row", "subject", "variable", "rule", "value",
           "message")
SORT = ["file", "row", "rule", "variable"]
JSON_CHUNK = 50_000


@dataclass(frozen=True, slots=True)
class Violation:
    """Where a rule failed: dataset, file, row (as seen in the file), subject, variable, value."""

    dataset: str
    file: str
    rule: str
    message: str
    row: int | None = None
    subject: str | None = None
    variable: str | None = None
    value: str | None = None
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.variable is not None:
            where.append(f"column {self.variable}")
        subject = f" [{self.subject}]" if self.subject else ""
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}{subject}: {self.message}{value} [{self.rule}]"


def violation_frame(*, dataset: str, file: str, rule: Any, message: Any,
                    rows: Any = None, subjects: Any = None, variable: Any = None,
                    values: Any = None, severity: str = "error") -> pd.DataFrame:
    """A batch of violations; each argument is one value or an array with one per violation."""
    n = len(rows) if rows is not None and not np.isscalar(rows) else 1
    if rows is None or np.isscalar(rows):
        rows = [rows] * n

    def column(value: Any) -> Any:
        if value is None or isinstance(value, str):
            same = np.empty(n, dtype=object)
            same.fill(value)  # one shared object (np.full would copy the text n times)
            return same
        return np.asarray(value, dtype=object)

    return pd.DataFrame({
        "severity": column(severity), "dataset": column(dataset), "file": column(file),
        "row": pd.array(rows, dtype="Int64"), "subject": column(subjects),
        "variable": column(variable), "rule": column(rule), "value": column(values),
        "message": column(message)}, copy=False)


def _objects(table: pd.DataFrame) -> list[Violation]:
    rows = [None if pd.isna(r) else int(r) for r in table["row"]]
    return [Violation(dataset=d, file=f, rule=r, message=m, row=row, subject=s, variable=v,
                      value=val, severity=sev)
            for sev, d, f, row, s, v, r, val, m in zip(
                table["severity"], table["dataset"], table["file"], rows, table["subject"],
                table["variable"], table["rule"], table["value"], table["message"],
                strict=True)]


@dataclass
class ValidationReport:
    """Every violation found in one pass, plus the typed datasets that could be read."""

    data_dir: Path
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)  # records read, by dataset
    _parts: list[pd.DataFrame] = field(default_factory=list, repr=False)
    _table: pd.DataFrame | None = field(default=None, repr=False)
    _objects: tuple[Violation, ...] | None = field(default=None, repr=False)

    def add(self, batch: pd.DataFrame | Violation) -> None:
        """Add a batch from :func:`violation_frame` (or one :class:`Violation`)."""
        if isinstance(batch, Violation):
            batch = violation_frame(dataset=batch.dataset, file=batch.file, rule=batch.rule,
                                    message=batch.message, rows=batch.row,
                                    subjects=batch.subject, variable=batch.variable,
                                    values=batch.value, severity=batch.severity)
        if len(batch):
            self._parts.append(batch)
            self._table, self._objects = None, None

    @property
    def table(self) -> pd.DataFrame:
        """Every violation, one row each, sorted by file, row, rule and variable."""
        if self._table is None:
            if not self._parts:
                frame = pd.DataFrame({c: pd.Series(dtype="Int64" if c == "row" else object)
                                      for c in COLUMNS})
            else:
                frame = pd.concat(self._parts, ignore_index=True)
                frame = frame.sort_values(SORT, kind="stable", na_position="first")
                frame = frame.reset_index(drop=True)
            self._parts = [frame] if len(frame) else []
            self._table = frame
        return self._table

    @property
    def violations(self) -> tuple[Violation, ...]:
        """Every violation as an object, in report order (made on first use; read-only: add
        violations with :meth:`add`)."""
        if self._objects is None:
            self._objects = tuple(_objects(self.table))
        return self._objects

    def first(self, n: int, severity: str | None = "error") -> list[Violation]:
        """The first ``n`` violations (of ``severity``; None for any) in report order."""
        table = self.table
        if severity is not None:
            table = table[table["severity"] == severity]
        return _objects(table.head(n))

    @property
    def n_errors(self) -> int:
        """Number of violations of severity error."""
        return int((self.table["severity"] == "error").sum())

    @property
    def n_warnings(self) -> int:
        """Number of violations of severity warning."""
        return int((self.table["severity"] == "warning").sum())

    @property
    def errors(self) -> list[Violation]:
        """Violations of severity error."""
        return [v for v in self.violations if v.severity == "error"]

    @property
    def warnings(self) -> list[Violation]:
        """Violations of severity warning."""
        return [v for v in self.violations if v.severity == "warning"]

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings allowed)."""
        return self.n_errors == 0

    def to_frame(self) -> pd.DataFrame:
        """The violations as a table (one row each)."""
        return self.table.copy()

    def _head(self) -> dict[str, Any]:
        return {
            "data_dir": str(self.data_dir),
            "valid": self.ok,
            "n_errors": self.n_errors,
            "n_warnings": self.n_warnings,
            "datasets": {name: {"file": str(self.files.get(name, "")),
                                "records": self.records.get(name, len(df))}
                         for name, df in self.datasets.items()},
        }

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: counts, datasets checked and every violation."""
        head = self._head()
        head["violations"] = [
            {c: getattr(v, c) for c in Violation.__slots__} for v in self.violations]
        return head

    def write_json(self, path: Path) -> None:
        """Write the JSON report to ``path`` (UTF-8), atomically; raises ``OSError``."""
        path = Path(path)
        head = json.dumps(self._head(), indent=2, ensure_ascii=False)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        out = open(tmp, "x", encoding="utf-8", newline="\n")  # a new file: never overwrites
        try:
            with out:
                out.write(head[:-2] + ',\n  "violations": [')
                table = self.table[list(Violation.__slots__)]
                # Between two records pandas writes '},{"dataset":', which cannot occur inside
                # a JSON string (its quotes are escaped): one record per line. pandas escapes
                # every "/" as "\/"; both mean "/" (the module tests read paths back).
                between = f'}},{{"{Violation.__slots__[0]}":'
                for start in range(0, len(table), JSON_CHUNK):
                    chunk = table.iloc[start:start + JSON_CHUNK]
                    text = chunk.to_json(orient="records", force_ascii=False)[1:-1]
                    text = text.replace("\\/", "/").replace(between, between[:2] + "\n    "
                                                              + between[2:])
                    out.write(("," if start else "") + "\n    " + text)
                out.write("\n  ]\n}\n" if len(table) else "]\n}\n")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise

    def format_table(self, limit: int | None = 10) -> str:
        """The readable report for a terminal (see :mod:`trialreport.validation.summary`)."""
        from trialreport.validation.summary import format_report

        return format_report(self, per_group=limit)
