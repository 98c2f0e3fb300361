"""Compare two versions of a report: which results changed, and which sentences of the text.

>>> changes = compare_reports("old/report", "report")     # folders, ard.json files or zips
>>> changes.changed, [o.label for o in changes.outputs]
>>> print(format_changes(changes)); write_changes(changes, "report")

:func:`compare_ards` matches the results of two ARDs by key (``docs/ard.md``) and groups the
added, removed and changed ones by output ("Table 14.3.1 Overview of ..."); :func:`compare_text`
aligns the sentences of two rendered HTML reports and marks the changed words.
:func:`archive_previous_version` keeps the last version's ``ard.json`` and HTML under
``report/history/v<version>/`` when a new version is published, and
:func:`changes_since_previous` summarises the changes since then for the document history.
"""

from __future__ import annotations

from pathlib import Path

from trialreport.compare._console import format_changes
from trialreport.compare._files import changes_docx, changes_html, file_stem, write_changes
from trialreport.compare._history import (
    HISTORY_DIR,
    archive_previous_version,
    changes_markdown,
    changes_since_previous,
    previous_version,
)
from trialreport.compare._model import (
    Changes,
    OutputChanges,
    ResultChange,
    ResultKey,
    SentenceChange,
    Token,
)
from trialreport.compare._results import ARDReadError, compare_ards
from trialreport.compare._sides import ReportReadError, ReportSide, load_report
from trialreport.compare._text import compare_text

__all__ = ["ARDReadError", "Changes", "HISTORY_DIR", "OutputChanges", "ReportReadError",
           "ReportSide", "ResultChange", "ResultKey", "SentenceChange", "Token",
           "archive_previous_version", "changes_docx", "changes_html", "changes_markdown",
           "changes_since_previous", "compare_ards", "compare_reports", "compare_sides",
           "compare_text", "file_stem", "format_changes", "load_report", "previous_version",
           "write_changes"]


def compare_sides(old: ReportSide, new: ReportSide) -> Changes:
    """Results and, when both sides have their HTML report, the report text."""
    changes = compare_ards(old.ard, new.ard)
    changes.old_source, changes.new_source = old.source, new.source
    missing = [side.source for side in (old, new) if side.html is None]
    if missing:
        changes.text_skipped = "no HTML report in " + " and ".join(missing)
        return changes
    try:
        changes.text = compare_text(old.html or "", new.html or "")
    except ValueError as exc:
        changes.text_skipped = str(exc)
    return changes


def compare_reports(old: str | Path, new: str | Path) -> Changes:
    """Compare two report versions, each a report folder, an ``ard.json`` or a supplement zip.

    Raises :class:`ReportReadError` when a path is not a readable report.
    """
    return compare_sides(load_report(old), load_report(new))
