"""``trialreport init DIR --data ADAM_DIR [--define define.xml] [--title TEXT]``: a new study.

Writes a complete study project into ``DIR`` (new or empty) from an ADaM delivery, so that
``cd DIR && trialreport validate && trialreport ard --out ard.json && trialreport render``
succeed without an edit, then prints what was inferred and every placeholder to fill in.

Exit status: 0 written, 1 the data cannot be used (unreadable, breaking define.xml, no arm
variable or population flag), 2 a usage error (DIR not empty, no ADaM folder, no ADSL).
Nothing is written unless everything succeeded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _cmd_init(args: argparse.Namespace) -> int:
    from trialreport.scaffold import InitError, create_study

    try:
        result = create_study(Path(args.dir), Path(args.data),
                              Path(args.define) if args.define else None, args.title)
    except InitError as exc:
        print(f"trialreport init: {exc}", file=sys.stderr)
        return exc.status
    print("\n".join(result.summary_lines()))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``init`` sub-command."""
    p = subparsers.add_parser(
        "init", help="make a new study project from an ADaM folder",
        description="Make a study project (data, specification, study definition, chapters, "
                    "_quarto.yml, CHANGELOG.md) in DIR from the ADaM datasets in ADAM_DIR. "
                    "Facts the data do not give are written as placeholders and listed.")
    p.add_argument("dir", metavar="DIR", help="the new study folder (must not exist, or be "
                                              "empty)")
    p.add_argument("--data", required=True, metavar="ADAM_DIR",
                   help="folder of ADaM datasets (.xpt, .csv, .parquet) holding at least ADSL")
    p.add_argument("--define", metavar="define.xml",
                   help="Define-XML of the datasets (default: ADAM_DIR/define.xml if present)")
    p.add_argument("--title", metavar="TEXT", help="the study's title (default: from STUDYID)")
    p.set_defaults(func=_cmd_init)
