"""One violation of the data specification, and the report that collects them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
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


@dataclass
class ValidationReport:
    """Every violation found in one pass, plus the typed datasets that could be read."""

    data_dir: Path
    violations: list[Violation] = field(default_factory=list)
    datasets: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)

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
        return not self.errors

    def to_frame(self) -> pd.DataFrame:
        """The violations as a table (one row each)."""
        cols = ["severity", "dataset", "file", "row", "subject", "variable", "rule", "value",
                "message"]
        return pd.DataFrame([asdict(v) for v in self.violations], columns=cols)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready summary: counts, datasets checked and every violation."""
        return {
            "data_dir": str(self.data_dir),
            "valid": self.ok,
            "n_errors": len(self.errors),
            "n_warnings": len(self.warnings),
            "datasets": {name: {"file": str(self.files.get(name, "")), "records": len(df)}
                         for name, df in self.datasets.items()},
            "violations": [asdict(v) for v in self.violations],
        }

    def write_json(self, path: Path) -> None:
        """Write :meth:`to_json` to ``path`` (UTF-8, indented)."""
        Path(path).write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n",
                              encoding="utf-8")

    def format_table(self, limit: int | None = None) -> str:
        """A readable fixed-width table of the violations for a terminal."""
        if not self.violations:
            return f"{self.data_dir}: all datasets conform to the specification."
        frame = self.to_frame().fillna("")
        frame["row"] = frame["row"].map(lambda r: "" if r == "" else str(int(r)))
        frame["file"] = frame["file"].map(lambda f: Path(f).name)
        frame = frame[["severity", "file", "row", "subject", "variable", "rule", "value",
                       "message"]]
        if limit is not None and len(frame) > limit:
            frame = frame.head(limit)
        widths = {c: min(max(len(c), *(len(str(x)) for x in frame[c])), 60 if c == "message"
                         else 28) for c in frame.columns}

        def cut(text: str, width: int) -> str:
            return text if len(text) <= width else text[: width - 1] + "…"

        lines = ["  ".join(c.upper().ljust(widths[c]) for c in frame.columns)]
        lines.append("  ".join("-" * widths[c] for c in frame.columns))
        for _, r in frame.iterrows():
            lines.append("  ".join(cut(str(r[c]), widths[c]).ljust(widths[c])
                                   for c in frame.columns).rstrip())
        lines.append(f"\n{len(self.errors)} error(s), {len(self.warnings)} warning(s) in "
                     f"{self.data_dir}")
        return "\n".join(lines)
