"""The ``bundle`` and ``verify`` sub-commands (registered by :mod:`trialreport.cli`)."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from trialreport.paths import project_root
from trialreport.supplement.safe_unpack import Limits

MiB = 1024 * 1024
_MAX_MB = 1024 * 1024  # 1 TiB: anything larger is a typing error, not a limit

RERENDER_NOTICE = ("trialreport verify: --rerender RUNS THE AUTHORS' CODE (the chapters' Python "
                   "cells) from this supplement, in a throw-away virtual environment made from "
                   "its wheel and lock file; do this only for a supplement you trust.")


def _cmd_bundle(args: argparse.Namespace) -> int:
    import yaml

    from trialreport.spec.model import SpecificationError
    from trialreport.supplement.bundle import BundleError, build_supplement
    from trialreport.versioning import VersionError

    project = Path(args.project) if args.project else project_root()
    try:
        result = build_supplement(project, Path(args.output) if args.output else None,
                                  include_identifiers=args.include_identifiers)
    except (BundleError, VersionError, SpecificationError, yaml.YAMLError, OSError) as exc:
        print(f"trialreport bundle: {exc}", file=sys.stderr)
        return 1
    for warning in result.warnings:
        print(f"trialreport bundle: warning: {warning}", file=sys.stderr)
    if result.identifiers_included:
        listing = "; ".join(f"data/{f}: {', '.join(c)}"
                            for f, c in result.identifiers_included.items())
        print(f"trialreport bundle: warning: identifying columns included ({listing})",
              file=sys.stderr)
    print(f"wrote {result.path} ({len(result.members)} files, {result.size} bytes)")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    from trialreport.supplement.verify import VerifyUsageError, verify_supplement

    limits = Limits(max_member_bytes=int(args.max_member_mb * MiB),
                    max_total_bytes=int(args.max_total_mb * MiB))
    wheelhouse = Path(args.wheelhouse) if args.wheelhouse else None
    if wheelhouse is not None and not args.rerender:
        print("trialreport verify: --wheelhouse is only used with --rerender", file=sys.stderr)
        return 2
    if wheelhouse is not None and not wheelhouse.is_dir():
        print(f"trialreport verify: --wheelhouse folder not found: {wheelhouse}",
              file=sys.stderr)
        return 2
    if args.rerender:
        print(RERENDER_NOTICE, file=sys.stderr)
    try:
        report = verify_supplement(Path(args.supplement),
                                   Path(args.keep) if args.keep else None, limits,
                                   rerender=args.rerender, wheelhouse=wheelhouse)
    except VerifyUsageError as exc:
        print(f"trialreport verify: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def _megabytes(text: str) -> float:
    """A positive, finite size in MiB (argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of MiB: {text!r}") from None
    if not math.isfinite(value) or value <= 0 or value > _MAX_MB:
        raise argparse.ArgumentTypeError(f"must be a positive number of MiB up to {_MAX_MB}, "
                                         f"got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bundle`` and ``verify`` to the ``trialreport`` command."""
    default = Limits()
    member_mb, total_mb = default.max_member_bytes / MiB, default.max_total_bytes / MiB
    p = subparsers.add_parser(
        "bundle", help="build the journal supplement zip",
        description="Write <STUDY>-CSR-v<version>-supplement.zip (default into report/): the "
                    "study's files, the rendered report, ard.json, a wheel of this trialreport "
                    "and its lock file.")
    p.add_argument("--output", metavar="DIR", help="folder for the zip (default: report/)")
    p.add_argument("--include-identifiers", action="store_true",
                   help="ship data columns the specification marks as identifying")
    p.add_argument("--project", metavar="DIR", help="study folder (default: found from cwd)")
    p.set_defaults(func=_cmd_bundle)

    p = subparsers.add_parser(
        "verify", help="check a supplement's checksums and recompute its results",
        description="Check SUPPLEMENT.zip's members and MANIFEST, then recompute every result "
                    "with THIS installed trialreport from the supplement's data and "
                    "specification and compare with its ard.json. Nothing from the zip is "
                    "imported or executed (unless --rerender). Exit 0 when all match, 1 when "
                    "not, 2 on a usage error.")
    p.add_argument("supplement", metavar="SUPPLEMENT.zip")
    p.add_argument("--keep", metavar="DIR",
                   help="unpack into DIR (new or empty) and keep it, with the recomputed results")
    p.add_argument("--max-member-mb", type=_megabytes, default=member_mb,
                   help=f"largest member unpacked, MiB (default {member_mb:g})")
    p.add_argument("--max-total-mb", type=_megabytes, default=total_mb,
                   help=f"largest total unpacked, MiB (default {total_mb:g})")
    p.add_argument("--rerender", action="store_true",
                   help="also render the chapters again: RUNS THE AUTHORS' CODE, in a "
                        "throw-away virtual environment from the supplement's wheel and lock")
    p.add_argument("--wheelhouse", metavar="DIR",
                   help="with --rerender: folder of wheels for locked packages not installed")
    p.set_defaults(func=_cmd_verify)
