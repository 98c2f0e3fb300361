"""The ``trialreport`` command: init, validate, ard, render, preview, diff, tlf, bundle, verify.

Exit status: 0 success, 1 the data or the result is not right, 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from trialreport.paths import project_root


def _json_target(value: str | None) -> tuple[Path | None, str | None]:
    """(path, problem) for ``--json``: its folder must exist and be writable."""
    if value is None:
        return None, None
    path = Path(value)
    if path.is_dir():
        return None, f"--json {value}: is a folder; give a file name"
    folder = path.parent
    if not folder.is_dir():
        return None, f"--json {value}: folder {folder} does not exist"
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not
                                                   os.access(path, os.W_OK)):
        return None, f"--json {value}: cannot write there (permission denied)"
    return path, None


def _cmd_validate(args: argparse.Namespace) -> int:
    from trialreport.io.readers import SizeLimitError, max_bytes
    from trialreport.spec.model import SpecificationError
    from trialreport.validation import validate_folder

    for option in ("data", "spec", "json"):
        if "\0" in (getattr(args, option) or ""):
            print(f"trialreport validate: --{option} contains a NUL character", file=sys.stderr)
            return 2
    data = Path(args.data)
    if not data.is_dir():
        print(f"trialreport validate: data folder not found: {data}", file=sys.stderr)
        return 2
    json_path, problem = _json_target(args.json)
    if problem:
        print(f"trialreport validate: {problem}", file=sys.stderr)
        return 2
    if args.show < 1:
        print("trialreport validate: --show must be at least 1", file=sys.stderr)
        return 2
    try:
        max_bytes()
        report = validate_folder(data, Path(args.spec))
    except (SpecificationError, SizeLimitError) as exc:
        print(f"trialreport validate: {exc}", file=sys.stderr)
        return 2
    print(report.format_table(limit=args.show))
    if json_path is not None:
        try:
            report.write_json(json_path)
        except OSError as exc:
            print(f"trialreport validate: --json {args.json}: cannot write ({exc.strerror})",
                  file=sys.stderr)
            return 2
    return 0 if report.ok else 1


def _cmd_make_data(args: argparse.Namespace) -> int:
    from trialreport.demodata import SEED, write_demo_data

    seed = SEED if args.seed is None else args.seed
    for path in write_demo_data(Path(args.out), seed=seed):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every sub-command."""
    root = project_root()
    parser = argparse.ArgumentParser(prog="trialreport", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a data folder against the specification")
    p.add_argument("--data", default=str(root / "data"), help="data folder (default: data/)")
    p.add_argument("--spec", default=str(root / "data_spec"), help="specification folder")
    p.add_argument("--json", metavar="FILE", help="also write every violation as JSON")
    p.add_argument("--show", type=int, default=10, metavar="N",
                   help="list at most N violations of each rule and column (default 10)")
    p.set_defaults(func=_cmd_validate)

    p = sub.add_parser("make-data", help="regenerate the synthetic ALEVIATE demonstration data")
    p.add_argument("--out", default=str(root / "data"))
    p.add_argument("--seed", type=int, default=None,
                   help="generator seed (default: the one that built the shipped data)")
    p.set_defaults(func=_cmd_make_data)

    for register in _extra_commands():
        register(sub)
    return parser


def _extra_commands() -> list:
    """Sub-commands registered by other modules (analysis, render, bundle)."""
    registrars = []
    for module in ("trialreport.commands.init", "trialreport.commands.ard",
                   "trialreport.commands.render", "trialreport.commands.supplement",
                   "trialreport.commands.diff", "trialreport.commands.preview",
                   "trialreport.commands.tlf"):
        try:
            mod = __import__(module, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                continue
            raise
        registrars.append(mod.register)
    return registrars


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a usage error, 0 on --help
        return int(exc.code or 0)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
