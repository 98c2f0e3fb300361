"""The ``bundle`` and ``verify`` sub-commands (registered by :mod:`trialreport.cli`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from trialreport.paths import project_root
from trialreport.supplement.safe_unpack import Limits

MiB = 1024 * 1024


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
    try:
        report = verify_supplement(Path(args.supplement),
                                   Path(args.keep) if args.keep else None, limits)
    except VerifyUsageError as exc:
        print(f"trialreport verify: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``bundle`` and ``verify`` to the ``trialreport`` command."""
    default = Limits()
    member_mb, total_mb = default.max_member_bytes / MiB, default.max_total_bytes / MiB
    p = subparsers.add_parser(
        "bundle", help="build the self-verifying journal supplement zip",
        description="Write <STUDY>-CSR-v<version>-supplement.zip (default into report/).")
    p.add_argument("--output", metavar="DIR", help="folder for the zip (default: report/)")
    p.add_argument("--include-identifiers", action="store_true",
                   help="ship data columns the specification marks as identifying")
    p.add_argument("--project", metavar="DIR", help="project folder (default: found from cwd)")
    p.set_defaults(func=_cmd_bundle)

    p = subparsers.add_parser(
        "verify", help="check a supplement's checksums and re-run its analyses",
        description="Unpack SUPPLEMENT.zip safely, check MANIFEST, re-run the analyses with the "
                    "bundled code and compare every result. Exit 0 when all match, 1 when not, "
                    "2 on a usage error.")
    p.add_argument("supplement", metavar="SUPPLEMENT.zip")
    p.add_argument("--keep", metavar="DIR", help="keep the unpacked supplement in DIR")
    p.add_argument("--max-member-mb", type=float, default=member_mb,
                   help=f"largest member unpacked, MiB (default {member_mb:g})")
    p.add_argument("--max-total-mb", type=float, default=total_mb,
                   help=f"largest total unpacked, MiB (default {total_mb:g})")
    p.set_defaults(func=_cmd_verify)

