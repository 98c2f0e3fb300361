"""The comparison as readable text for the terminal: bounded, like a validation report."""

from __future__ import annotations

from trialreport.compare._display import (
    KEY_HEADERS,
    key_cells,
    marked,
    method_text,
    plain,
    value_text,
)
from trialreport.compare._model import Changes, OutputChanges

#: Widest cell printed in the terminal (the HTML and Word files hold the full text).
MAX_CELL = 48
HEADERS = ("status", *KEY_HEADERS, "old", "new")


def _cut(text: str) -> str:
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "\u2026"


def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    cells = [[_cut(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in cells]


def output_lines(output: OutputChanges, limit: int) -> list[str]:
    """One output's heading line and its first ``limit`` changes as a table."""
    lines = [f"{plain(output.label)}: {output.summary()}"]
    rows = [list(HEADERS)]
    for change in output.results[:limit]:
        statistic = change.key.statistic
        new = value_text(statistic, change.new)
        method = method_text(change)
        rows.append([change.status, *key_cells(change.key), value_text(statistic, change.old),
                     f"{new}; {method}" if method else new])
    lines += _table(rows)
    hidden = len(output.results) - limit
    if hidden > 0:
        lines.append(f"  ... and {hidden} more in this output")
    return lines


def text_lines(changes: Changes, limit: int) -> list[str]:
    """The changed sentences: old with removed words in ``[-...-]``, new with ``{+...+}``."""
    if changes.text is None:
        return [f"Report text: not compared ({plain(changes.text_skipped)})"]
    lines = [f"Report text: {len(changes.text)} sentence(s) differ"]
    for change in changes.text[:limit]:
        lines.append(f"  [{change.status}] {plain(change.section) or '(no heading)'}")
        if change.old:
            lines.append("    - " + marked(change.old_tokens, "[-", "-]"))
        if change.new:
            lines.append("    + " + marked(change.new_tokens, "{+", "+}"))
    hidden = len(changes.text) - limit
    if hidden > 0:
        lines.append(f"  ... and {hidden} more sentence(s)")
    return lines


def format_changes(changes: Changes, limit: int = 20) -> str:
    """The whole comparison as text: a summary, each output's changes (first ``limit``), the
    changed sentences (first ``limit``) and notes on the outputs themselves."""
    lines = [f"Changes from version {plain(changes.old_version)} ({plain(changes.old_source)}) "
             f"to version {plain(changes.new_version)} ({plain(changes.new_source)})",
             f"Results: {changes.count('changed')} changed, {changes.count('added')} added, "
             f"{changes.count('removed')} removed ({changes.compared} in both versions)"]
    for output in changes.outputs:
        lines += ["", *output_lines(output, limit)]
    lines += ["", *text_lines(changes, limit)]
    if changes.notes:
        lines += ["", "Outputs:", *(f"  {plain(n)}" for n in changes.notes)]
    lines += ["", "Something changed." if changes.changed else "Nothing changed."]
    return "\n".join(lines)
