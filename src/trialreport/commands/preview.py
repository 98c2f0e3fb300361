"""``trialreport preview``: serve the HTML report on 127.0.0.1 and re-render it on save.

Exit status: 0 after Ctrl-C or SIGTERM, 2 on a usage error (no project, missing data folder,
port not available).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from trialreport.paths import project_root


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0-65535 (0: any free one), got {value}")
    return value


def _cmd_preview(args: argparse.Namespace) -> int:
    from trialreport.preview import serve_preview

    root = project_root()
    if not (root / "_quarto.yml").is_file():
        print(f"trialreport preview: no _quarto.yml in {root}: not a report project",
              file=sys.stderr)
        return 2
    data = Path(args.data).resolve()
    if not data.is_dir():
        print(f"trialreport preview: data folder not found: {data}", file=sys.stderr)
        return 2
    try:
        return serve_preview(root, data, port=args.port, open_browser=not args.no_browser)
    except OSError as exc:
        print(f"trialreport preview: cannot serve on 127.0.0.1:{args.port}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add the ``preview`` sub-command."""
    root = project_root()
    p = sub.add_parser(
        "preview", help="serve the HTML report locally and re-render it on save",
        description="Serve the HTML report on 127.0.0.1 and re-render it (into .cache/preview/, "
                    "with the built-in engine) whenever a chapter, index.qmd, _quarto.yml, "
                    "data_spec/ or the data change; the open page reloads itself. Ctrl-C stops.")
    p.add_argument("--port", type=_port, default=4848,
                   help="port on 127.0.0.1 (default 4848; 0 picks a free one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a web browser")
    p.add_argument("--data", default=os.environ.get("TRIALREPORT_DATA", str(root / "data")),
                   help="data folder (default: data/)")
    p.set_defaults(func=_cmd_preview)
