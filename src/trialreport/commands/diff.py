"""``trialreport diff OLD NEW``: what changed between two versions of a report.

Each side is a report folder (``ard.json`` and the HTML report), an ``ard.json`` or a supplement
zip (read safely, nothing extracted or run). Prints the added, removed and changed results by
output and the changed sentences of the report text, and writes ``changes-vOLD-vNEW.html`` and
``.docx``. Exit status: 0 nothing changed, 1 something changed, 2 a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trialreport.paths import project_root


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_diff(args: argparse.Namespace) -> int:
    from trialreport.compare import (
        ARDReadError,
        ReportReadError,
        compare_reports,
        format_changes,
        write_changes,
    )
    from trialreport.compare._display import plain

    try:
        changes = compare_reports(Path(args.old), Path(args.new))
    except (ReportReadError, ARDReadError) as exc:
        print(f"trialreport diff: {plain(exc)}", file=sys.stderr)
        return 2
    print(format_changes(changes, limit=args.limit))
    if not args.no_files:
        folder = Path(args.output) if args.output else project_root() / "report"
        try:
            written = write_changes(changes, folder)
        except OSError as exc:
            print(f"trialreport diff: cannot write into {folder}: {exc.strerror or exc}",
                  file=sys.stderr)
            return 2
        for path in written:
            print(f"wrote {path}")
    return 1 if changes.changed else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``diff`` to the ``trialreport`` command."""
    p = subparsers.add_parser(
        "diff", help="compare two versions of a report (results and text)",
        description="Compare two versions of a report, each a report folder, an ard.json or a "
                    "supplement zip: the results added, removed and changed (by output and "
                    "key, at full precision) and the changed sentences of the report text "
                    "(when both sides have their HTML report). Writes "
                    "changes-vOLD-vNEW.html and .docx. Exit 0 when nothing changed, 1 when "
                    "something did, 2 on a usage error.")
    p.add_argument("old", metavar="OLD", help="the earlier version")
    p.add_argument("new", metavar="NEW", help="the later version")
    p.add_argument("--output", metavar="DIR",
                   help="folder for changes-vOLD-vNEW.html/.docx (default: report/)")
    p.add_argument("--no-files", action="store_true", help="print only; write no files")
    p.add_argument("--limit", type=_positive, default=20, metavar="N",
                   help="changes printed per output and sentences printed (default 20)")
    p.set_defaults(func=_cmd_diff)
