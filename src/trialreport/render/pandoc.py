"""Run pandoc (from pypandoc-binary) on the assembled book, one process per format."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from .procs import can_die_with_parent, die_with_parent

DEFERRED_HTML = "deferred-html"  # folder (in the build folder) of the HTML tables, see below
_DEFERRED = re.compile(rb"<!--trialreport-deferred-html:(\d+)-->")

PANDOC_TARGET = {"html": "html5", "docx": "docx", "pdf": "typst"}
OUTPUT_SUFFIX = {"html": ".html", "docx": ".docx", "pdf": ".typ"}
INPUT_FORMAT = "markdown+fenced_divs+raw_attribute+citations+implicit_figures"


class PandocError(RuntimeError):
    """pandoc exited with an error."""


@cache
def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


@cache
def resource_dir() -> Path:
    """Folder with the Lua filter, typst template, reference.docx and CSS."""
    return Path(__file__).resolve().parents[1] / "resources" / "render"


@dataclass
class PandocJob:
    fmt: str  # html | docx | pdf
    source: Path
    output: Path
    args: list[str]


def build_job(
    fmt: str,
    source: Path,
    metadata_file: Path,
    out_dir: Path,
    stem: str,
    resource_path: Sequence[Path],
    toc_depth: int = 2,
    format_options: Mapping[str, object] | None = None,
) -> PandocJob:
    """Command line for one output format (the typst target produces a .typ for typst.compile)."""
    res = resource_dir()
    output = out_dir / f"{stem}{OUTPUT_SUFFIX[fmt]}"
    args = [
        pandoc_path(),
        str(source),
        "--from",
        INPUT_FORMAT,
        "--to",
        PANDOC_TARGET[fmt],
        "--lua-filter",
        str(res / "trialreport.lua"),
        "--metadata-file",
        str(metadata_file),
        "--resource-path",
        ":".join(str(p) for p in resource_path),
        "--standalone",
        "--toc",
        f"--toc-depth={toc_depth}",
        "--output",
        str(output),
    ]
    opts = format_options or {}
    if fmt == "html":
        args += ["--embed-resources", "--css", str(res / "book.css"), "--mathml"]
        args += ["--metadata", "toc-title=Contents", "--section-divs"]
        deferred = out_dir / DEFERRED_HTML
        deferred.mkdir(exist_ok=True)
        args += ["--metadata", f"tr-deferred-html={deferred}"]
    elif fmt == "docx":
        ref = opts.get("reference-doc")
        args += ["--reference-doc", str(ref or res / "reference.docx")]
        args += ["--metadata", "toc-title=Table of Contents"]
    elif fmt == "pdf":
        # typst resolves image paths against the .typ file: collect every image next to it
        args += ["--template", str(res / "csr.typ"), "--extract-media", "typst-media"]
    return PandocJob(fmt, source, output, args)


def run_job(job: PandocJob, cwd: Path) -> list[str]:
    """Run one pandoc job; return its warning lines. Raises PandocError when pandoc fails."""
    proc = subprocess.run(job.args, cwd=cwd, capture_output=True, text=True,  # dies with us:
                          preexec_fn=die_with_parent if can_die_with_parent() else None)
    if proc.returncode != 0:
        raise PandocError(f"pandoc ({job.fmt}) failed with exit code {proc.returncode}:\n"
                          f"{proc.stderr}")
    return [line.rstrip() for line in proc.stderr.splitlines() if line.strip()]


def restore_deferred_html(page: Path, folder: Path) -> None:
    """Put the tables the Lua filter set aside (``folder/<n>.html``) back into ``page``.

    The filter writes each table's HTML to a file and leaves a comment in its place, so that
    pandoc's --embed-resources does not re-parse them (they are most of the page and embed
    nothing); there is no pandoc option for this. Each placeholder must occur exactly once.
    """
    files = {int(p.stem): p for p in folder.glob("*.html")}
    html = page.read_bytes()  # bytes: line ends and encoding pass through untouched
    found = [int(m) for m in _DEFERRED.findall(html)]
    if sorted(found) != sorted(files):
        raise PandocError(f"HTML tables set aside {sorted(files)} but placeholders {found} "
                          f"in {page.name}")

    def table(match: re.Match[bytes]) -> bytes:
        return files[int(match.group(1))].read_bytes()

    page.write_bytes(_DEFERRED.sub(table, html))
