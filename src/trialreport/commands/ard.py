"""``trialreport ard``: build the analysis results data and write it as JSON or CSV.

Exit status: 0 written, 1 the data break the specification or the ARD breaks its contract
(the violations are printed), 2 a usage error (unknown output suffix, missing folder or file,
malformed study definition).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

SUFFIXES = (".json", ".csv")


def _cmd_ard(args: argparse.Namespace) -> int:
    from trialreport.ard import ARDError, build_ard_from_paths
    from trialreport.paths import data_dir, project_root, spec_dir, study_file
    from trialreport.spec.model import SpecificationError
    from trialreport.study import StudyDefinitionError
    from trialreport.validation import DataValidationError

    out = Path(args.out)
    if out.suffix.lower() not in SUFFIXES:
        print(f"trialreport ard: --out must end in .json or .csv, got {out.name!r}",
              file=sys.stderr)
        return 2
    for label, path, want_dir in (("data folder", args.data, True),
                                  ("specification folder", args.spec, True),
                                  ("study definition", args.study, False)):
        if path is not None and not (Path(path).is_dir() if want_dir else Path(path).is_file()):
            print(f"trialreport ard: {label} not found: {path}", file=sys.stderr)
            return 2
    root = project_root()
    try:
        ard = build_ard_from_paths(args.data or data_dir(root), args.spec or spec_dir(root),
                                   args.study or study_file(root))
    except DataValidationError as exc:
        print(f"trialreport ard: {len(exc.report.errors)} validation error(s); no ARD written",
              file=sys.stderr)
        for violation in exc.report.errors:
            print(f"  {violation}", file=sys.stderr)
        return 1
    except ARDError as exc:
        print(f"trialreport ard: {exc}", file=sys.stderr)
        return 1
    except StudyDefinitionError as exc:  # the definition does not fit the data, or is malformed
        print(f"trialreport ard: {exc}", file=sys.stderr)
        return 1
    except SpecificationError as exc:
        print(f"trialreport ard: {exc}", file=sys.stderr)
        return 2
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".json":
        ard.to_json(out)
    else:
        ard.to_csv(out)
    print(f"wrote {out} ({len(ard.frame)} results; {ard.metadata.get('version_stamp', '')})")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``ard`` sub-command to the ``trialreport`` command line."""
    p = subparsers.add_parser("ard", help="compute the analysis results data (JSON or CSV)")
    p.add_argument("--data", default=None, help="data folder (default: the project's data/)")
    p.add_argument("--spec", default=None, help="specification folder (default: data_spec/)")
    p.add_argument("--study", default=None,
                   help="study definition (default: data_spec/study.yml)")
    p.add_argument("--out", required=True, help="output file, .json or .csv")
    p.set_defaults(func=_cmd_ard)
