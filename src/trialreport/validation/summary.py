"""The validation report as a person reads it in a terminal: short, sorted, with a summary.

Violations are sorted by file and row; of each (rule, column) only the first few are listed,
followed by how many more there are (the full list is in ``--json``). The last line sums up:
``3 files, 1,234 records: 17 violations of 5 rules``. Values from the data are shown with
control characters escaped, so a cell cannot move the cursor or hide text in the terminal.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from trialreport.validation.violations import ValidationReport

SHOWN = ["severity", "file", "row", "subject", "variable", "rule", "value", "message"]
WIDTH = {"message": 70, "value": 30}
DEFAULT_WIDTH = 28


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def shown(value: object) -> str:
    """A value for the terminal: missing as empty; quoted when it has spaces at an end or
    characters that are not printable."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value)
    if not text.isprintable() or text != text.strip():
        return repr(text)
    return text


def summary_line(report: ValidationReport) -> str:
    """``6 files, 1,352,001 records: 17 violations of 5 rules (1 warning)``."""
    files = len(report.files)
    records = sum(report.records.values())
    table = report.table
    errors = table[table["severity"] == "error"]
    rules = errors["rule"].nunique()
    text = f"{_plural(files, 'file')}, {_plural(records, 'record')}: "
    text += (f"{_plural(len(errors), 'violation')} of {_plural(rules, 'rule')}" if len(errors)
             else "no violations")
    if report.n_warnings:
        text += f" ({_plural(report.n_warnings, 'warning')})"
    return text


def format_report(report: ValidationReport, per_group: int | None = 10) -> str:
    """Fixed-width table of the first ``per_group`` violations of each (rule, column)."""
    table = report.table
    if table.empty:
        return (f"{report.data_dir}: all datasets conform to the specification.\n"
                f"{summary_line(report)}")
    keys = [table["rule"].fillna(""), table["variable"].fillna("")]
    rank = table.groupby(keys, sort=False).cumcount()
    keep = rank < per_group if per_group is not None else pd.Series(True, index=table.index)
    head = table[keep.to_numpy()]
    frame = pd.DataFrame({
        "severity": head["severity"].map(shown), "file": head["file"].map(
            lambda f: shown(Path(f).name)),
        "row": head["row"].map(lambda r: "" if pd.isna(r) else str(int(r))),
        **{c: head[c].map(shown) for c in ("subject", "variable", "rule", "value", "message")}})
    widths = {c: min(max(len(c), *(len(x) for x in frame[c])), WIDTH.get(c, DEFAULT_WIDTH))
              for c in SHOWN}

    def cut(text: str, width: int) -> str:
        return text if len(text) <= width else text[: width - 1] + "…"

    lines = ["  ".join(c.upper().ljust(widths[c]) for c in SHOWN),
             "  ".join("-" * widths[c] for c in SHOWN)]
    lines += ["  ".join(cut(r[c], widths[c]).ljust(widths[c]) for c in SHOWN).rstrip()
              for r in frame.to_dict("records")]
    hidden = table[~keep.to_numpy()]
    if len(hidden):
        lines.append("")
        counts = hidden.groupby([hidden["rule"].fillna(""), hidden["variable"].fillna("")],
                                sort=True).size()
        for (rule, variable), n in counts.items():
            on = f" on {shown(variable)}" if variable else ""
            lines.append(f"... and {n:,} more of rule {shown(rule)}{on} (see --json for all)")
    lines += ["", summary_line(report)]
    return "\n".join(lines)
