"""``trialreport render``: validate the data, render the book, write ard.json — all or nothing.

Everything is produced in a staging folder beside the output folder and moved into place only
when every step succeeded, so a failed render leaves the last good report untouched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from trialreport.paths import project_root

FORMATS = ("html", "docx", "pdf")


def _parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from html,docx,pdf")
    return formats


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``render`` sub-command."""
    root = project_root()
    p = sub.add_parser("render", help="validate the data and render the report")
    p.add_argument("--data", default=os.environ.get("TRIALREPORT_DATA", str(root / "data")))
    p.add_argument("--output", default=str(root / "report"), help="output folder (report/)")
    p.add_argument("--engine", choices=("auto", "quarto", "builtin"),
                   default=os.environ.get("TRIALREPORT_ENGINE", "auto"),
                   help="default: $TRIALREPORT_ENGINE or auto (quarto when on PATH)")
    p.add_argument("--format", type=_parse_formats, default=list(FORMATS),
                   help="comma-separated: html,docx,pdf")
    p.add_argument("--refresh", action="store_true", help="re-execute every chapter")
    p.set_defaults(func=run_render)


def _move_into_place(stage: Path, output: Path) -> list[Path]:
    """Move every staged file into ``output`` (replacing older versions)."""
    output.mkdir(parents=True, exist_ok=True)
    moved = []
    for item in sorted(stage.iterdir()):
        target = output / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)
        moved.append(target)
    return moved


def run_render(args: argparse.Namespace) -> int:
    """Validate, render into a staging folder, write ard.json and figures, then publish."""
    from trialreport.publish import CACHE, inputs_key, publish_report

    root = project_root()
    data = Path(args.data).resolve()
    if not data.is_dir():
        print(f"trialreport render: data folder not found: {data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    # Validation is repeated only when the data, the specification or the code changed.
    key = inputs_key(root, data)
    marker = root / CACHE / "validated" / key
    if marker.is_file():
        print(f"validated {data} (unchanged since the last clean validation)")
    else:
        from trialreport.validation import validate_folder

        report = validate_folder(data, root / "data_spec")
        if not report.ok:
            print(report.format_table(limit=50))
            print("trialreport render: the data break the specification; nothing was "
                  "rendered.", file=sys.stderr)
            return 1
        shutil.rmtree(marker.parent, ignore_errors=True)  # one marker: the current inputs
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("ok\n", encoding="utf-8")
        print(f"validated {data} ({sum(len(df) for df in report.datasets.values())} records)")
    output = Path(args.output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".render-", dir=output.parent) as tmp:
        stage = Path(tmp) / "stage"
        stage.mkdir()
        from trialreport.render.result import RenderError

        try:
            publish_report(root, data, stage, formats=args.format, engine=args.engine,
                           refresh=args.refresh, key=key)
            # A new report version: keep the previous one under report/history/v<old>/.
            from trialreport.compare import archive_previous_version

            archive_previous_version(output, stage / "ard.json")
        except RenderError as exc:  # nothing is moved into place
            print(f"trialreport render failed; {output} is unchanged.\n{exc}", file=sys.stderr)
            return 1
        moved = _move_into_place(stage, output)
    for path in moved:
        print(f"wrote {path}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0
