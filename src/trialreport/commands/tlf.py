"""``trialreport tlf``: write the TLF package (each numbered output as an RTF file, with an index).

Exit status: 0 written, 1 the data break the specification, the study definition does not fit
them or an output cannot be written (nothing is written), 2 a usage error (missing folder or
file, malformed specification).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def _cmd_tlf(args: argparse.Namespace) -> int:
    from trialreport.ard import ARDError, build_ard
    from trialreport.data import load_trial
    from trialreport.paths import data_dir, project_root, spec_dir, study_file
    from trialreport.spec.model import SpecificationError
    from trialreport.study import StudyDefinitionError
    from trialreport.tlf import INDEX_FILES, TLF_DIR, TlfError, out_dir_problem, write_tlf_package
    from trialreport.validation import DataValidationError

    for label, path, want_dir in (("data folder", args.data, True),
                                  ("specification folder", args.spec, True),
                                  ("study definition", args.study, False)):
        if path is not None and not (Path(path).is_dir() if want_dir else Path(path).is_file()):
            print(f"trialreport tlf: {label} not found: {path}", file=sys.stderr)
            return 2
    root = project_root()
    out = Path(args.out) if args.out else root / "report" / TLF_DIR
    problem = out_dir_problem(out)
    if problem:
        print(f"trialreport tlf: {problem}", file=sys.stderr)
        return 2
    try:
        data = load_trial(Path(args.data or data_dir(root)), Path(args.spec or spec_dir(root)),
                          Path(args.study or study_file(root)))
        written = write_tlf_package(data, build_ard(data), out)
    except DataValidationError as exc:
        print(f"trialreport tlf: {len(exc.report.errors)} validation error(s); nothing written",
              file=sys.stderr)
        for violation in exc.report.errors:
            print(f"  {violation}", file=sys.stderr)
        return 1
    except (ARDError, StudyDefinitionError, TlfError) as exc:
        print(f"trialreport tlf: {exc}", file=sys.stderr)
        return 1
    except SpecificationError as exc:
        print(f"trialreport tlf: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out} ({len(written) - len(INDEX_FILES)} outputs and "
          + " and ".join(INDEX_FILES) + ")")
    return 0


def register(subparsers: Any) -> None:
    """Add the ``tlf`` sub-command to the ``trialreport`` command line."""
    p = subparsers.add_parser("tlf", help="write each numbered table, listing and figure as "
                              "an RTF file, with an index (report/tlf/)")
    p.add_argument("--data", default=None, help="data folder (default: the project's data/)")
    p.add_argument("--spec", default=None, help="specification folder (default: data_spec/)")
    p.add_argument("--study", default=None,
                   help="study definition (default: data_spec/study.yml)")
    p.add_argument("--out", default=None, help="output folder (default: report/tlf/)")
    p.set_defaults(func=_cmd_tlf)
