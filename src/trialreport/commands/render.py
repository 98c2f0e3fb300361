"""``trialreport render``: validate the data, render the book, write ard.json — all or nothing.

One render at a time per project and output folder (a second one waits, ``--no-wait`` fails
at once). Everything is produced in a staging folder beside the output folder, which then
replaces the output folder in one atomic step, so a failed or interrupted render leaves the
last good report complete and untouched.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from trialreport.paths import project_root

FORMATS = ("html", "docx", "pdf")
DEFAULT_WAIT = 600.0  # seconds; the same as trialreport.render.lock.DEFAULT_WAIT


def _parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise argparse.ArgumentTypeError(
            f"unknown format(s) {', '.join(unknown) or '(none)'}; choose from html,docx,pdf")
    return formats


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"seconds must be 0 or more, not {text!r}")
    return value


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
    p.add_argument("--wait", type=_seconds, default=DEFAULT_WAIT, metavar="SECONDS",
                   help="wait up to SECONDS for another render of this project or output "
                        f"folder to finish (default {DEFAULT_WAIT:g})")
    p.add_argument("--no-wait", dest="wait", action="store_const", const=0.0,
                   help="fail at once when another render is running")
    p.add_argument("--timings", metavar="FILE",
                   help="write the seconds spent in each phase to FILE (JSON)")
    p.set_defaults(func=run_render)


@contextmanager
def _terminate_cleanly() -> Iterator[list[int]]:
    """While rendering, SIGTERM unwinds like Ctrl-C (it is turned into SIGINT, which asyncio
    and Python handle by cancelling what runs): kernels are shut down, staging is removed.
    The yielded list receives the signal numbers that arrived."""
    received: list[int] = []

    def on_term(signum: int, frame: object) -> None:
        received.append(signum)
        signal.raise_signal(signal.SIGINT)

    try:
        previous = signal.signal(signal.SIGTERM, on_term)
    except ValueError:  # not the main thread: leave signals alone
        yield received
        return
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def _source_date_epoch_problem() -> str | None:
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value and not value.isdigit():
        return f"SOURCE_DATE_EPOCH must be whole seconds since 1970 (UTC), not {value!r}"
    return None


def _validation_marker(root: Path, key: str) -> Path:
    from trialreport.publish import CACHE

    return root / CACHE / "validated" / key


def _validate(root: Path, data: Path, key: str) -> bool:
    """Validate ``data`` unless these inputs validated cleanly before; False when they break
    the specification (the problems are printed)."""
    from trialreport.render.cache import atomic_write_text

    marker = _validation_marker(root, key)
    if marker.is_file():
        print(f"validated {data} (unchanged since the last clean validation)")
        return True
    from trialreport.validation import validate_folder

    report = validate_folder(data, root / "data_spec")
    if not report.ok:
        print(report.format_table(limit=50))
        print("trialreport render: the data break the specification; nothing was "
              "rendered.", file=sys.stderr)
        return False
    shutil.rmtree(marker.parent, ignore_errors=True)  # one marker: the current inputs
    atomic_write_text(marker, "ok\n")
    print(f"validated {data} ({sum(len(df) for df in report.datasets.values())} records)")
    return True


def run_render(args: argparse.Namespace) -> int:
    """Validate, render into a staging folder, write ard.json and figures, then publish."""
    from trialreport.render.engine import check_output_dir
    from trialreport.render.result import RenderError

    root = project_root()
    data = Path(args.data).resolve()
    if not data.is_dir():
        print(f"trialreport render: data folder not found: {data}", file=sys.stderr)
        return 2
    problem = _source_date_epoch_problem()
    output = Path(args.output).resolve()
    if problem is None:
        try:
            check_output_dir(output)
        except RenderError as exc:
            problem = str(exc)
    if problem:
        print(f"trialreport render: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    phases: dict[str, float] = {}
    with _terminate_cleanly() as signals:
        try:
            code, moved = _render(args, root, data, output, phases)
        except KeyboardInterrupt:
            how = "terminated" if signals else "interrupted"
            print(f"trialreport render {how}; {output} is unchanged.", file=sys.stderr)
            return 143 if signals else 130
    if code:
        return code
    for path in moved:
        print(f"wrote {path}")
    phases["total"] = time.perf_counter() - started
    print(f"done in {phases['total']:.1f} s")
    if args.timings:
        Path(args.timings).write_text(json.dumps(phases, indent=1) + "\n", encoding="utf-8")
    return 0


def _render(args: argparse.Namespace, root: Path, data: Path, output: Path,
            phases: dict[str, float]) -> tuple[int, list[Path]]:
    from trialreport.publish import inputs_key, publish_report, start_kernels
    from trialreport.render.lock import RenderLockError, render_lock
    from trialreport.render.result import RenderError
    from trialreport.render.staging import (
        PublishError,
        make_staging_dir,
        publish_folder,
        remove_stale,
    )

    def note(line: str) -> None:
        print(f"trialreport render: {line}", file=sys.stderr, flush=True)

    try:
        with render_lock(root, output, args.wait, note):
            remove_stale(output.parent)  # staging folders of renders that were killed
            clock = time.perf_counter()
            # Validation is repeated only when the data, the specification or the code changed.
            key = inputs_key(root, data)
            kernels = None
            if args.refresh or not _validation_marker(root, key).is_file():
                # new inputs: every chapter will run; the kernels warm up meanwhile
                kernels = start_kernels(root, data, args.engine)
            stage = None
            try:
                if not _validate(root, data, key):
                    return 1, []
                phases["validate"] = time.perf_counter() - clock
                stage = make_staging_dir(output.parent)
                publish_report(root, data, stage, formats=args.format, engine=args.engine,
                               refresh=args.refresh, key=key, wait=args.wait, timings=phases,
                               kernel_server=kernels)
                # A new report version: keep the previous one under report/history/v<old>/
                # (carried into the new report by publish_folder).
                from trialreport.compare import archive_previous_version

                archive_previous_version(output, stage / "ard.json")
                clock = time.perf_counter()
                moved = publish_folder(stage, output)
                phases["publish"] = time.perf_counter() - clock
            finally:
                if kernels is not None:
                    kernels.close()
                if stage is not None:  # after publishing it holds the old report
                    shutil.rmtree(stage, ignore_errors=True)
    except RenderLockError as exc:
        print(f"trialreport render: {exc}", file=sys.stderr)
        return 1, []
    except (RenderError, PublishError) as exc:  # nothing was moved into place
        print(f"trialreport render failed; {output} is unchanged.\n{exc}", file=sys.stderr)
        return 1, []
    except OSError as exc:  # disk full, permissions: the file system refused a write
        where = f": {exc.filename}" if exc.filename else ""
        print(f"trialreport render failed; {output} is unchanged.\n"
              f"{exc.strerror or exc}{where}", file=sys.stderr)
        return 1, []
    return 0, moved
