"""The TLF package: every numbered table, listing and figure as its own RTF file, with an index.

Statistical programmers deliver each output of ICH E3 section 14 as a file of its own, RTF being
the common exchange format. :func:`write_tlf_package` writes, into one folder::

    table-14.2.1-efficacy.rtf       one file per output, in study-definition order
    figure-14.2.1-km_relapse.rtf    (kind, number, name: numbers repeat across kinds)
    index.csv, index.html           number, kind, title, population, file, source datasets

The numbers are the book's: each table's RTF is written from the same
:class:`~trialreport.tables.TableContent` its great_tables table is drawn from
(:func:`trialreport.tables.output_content`), so nothing is recomputed or formatted again.
The folder is written beside itself and swapped in only when every file succeeded.
"""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from trialreport.render.result import RenderError

__all__ = ["INDEX_COLUMNS", "INDEX_FILES", "TLF_DIR", "TlfEntry", "TlfError", "out_dir_problem",
           "read_tlf_index", "tlf_file_name", "write_tlf_package"]

#: The package's folder beside ``ard.json`` and ``figures/`` in ``report/``.
TLF_DIR = "tlf"
#: Columns of ``index.csv`` (and of the table in ``index.html``), in order.
INDEX_COLUMNS = ("number", "kind", "title", "population", "file", "source_datasets")
#: The index files, in the package beside the outputs.
INDEX_FILES = ("index.csv", "index.html")
#: A file name :func:`tlf_file_name` makes (kind, number, output name).
_FILE_NAME = re.compile(r"(table|figure|listing)-\d+(\.\d+)*-[A-Za-z0-9_-]+\.rtf")
#: First characters that make a spreadsheet read a CSV cell as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class TlfError(RenderError):
    """Writing the TLF package failed (names the output); nothing was written."""


@dataclass(frozen=True)
class TlfEntry:
    """One row of the index: an output and the file that holds it."""

    number: str
    kind: str
    title: str
    population: str
    file: str
    source_datasets: tuple[str, ...]

    def values(self) -> list[str]:
        """Cell texts in :data:`INDEX_COLUMNS` order (datasets joined by ``", "``)."""
        return [self.number, self.kind, self.title, self.population, self.file,
                ", ".join(self.source_datasets)]


def tlf_file_name(spec: Any) -> str:
    """``table-14.2.1-efficacy.rtf`` for an output spec (kind, number and unique name)."""
    return f"{spec.kind}-{spec.id}-{spec.name}.rtf"


def read_tlf_index(path: Path) -> list[str]:
    """The output files ``index.csv`` lists, in order; ``ValueError`` naming the line when
    its header is not :data:`INDEX_COLUMNS` or a row's file name is not one
    :func:`tlf_file_name` makes (so no path can point outside the folder)."""
    with Path(path).open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(rows[0]) != INDEX_COLUMNS:
        raise ValueError(f"{path}: line 1: header must be {','.join(INDEX_COLUMNS)}")
    files = []
    column = INDEX_COLUMNS.index("file")
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(INDEX_COLUMNS):
            raise ValueError(f"{path}: line {line}: {len(row)} fields, expected "
                             f"{len(INDEX_COLUMNS)}")
        if not _FILE_NAME.fullmatch(row[column]):
            raise ValueError(f"{path}: line {line}: column file: not a TLF file name: "
                             f"{row[column]!r}")
        if row[column] in files:
            raise ValueError(f"{path}: line {line}: column file: {row[column]} listed twice")
        files.append(row[column])
    return files


def _figure_rtf(study: Any, spec: Any, ard: Any, data: Any, content: Any, work: Path) -> str:
    import matplotlib.pyplot as plt

    from trialreport.figures import save_figure
    from trialreport.tables import build_output
    from trialreport.tables._rtf import figure_rtf

    fig = build_output(study, spec.name, ard, data)
    try:
        png = save_figure(fig, work / spec.name, formats=("png",))["png"]
        width, height = (float(v) for v in fig.get_size_inches())
    finally:
        plt.close(fig)
    return figure_rtf(content, png, (width, height))


def _write_output(study: Any, spec: Any, ard: Any, data: Any, folder: Path,
                  work: Path) -> TlfEntry:
    from trialreport.tables import TableContent, output_content
    from trialreport.tables._rtf import table_rtf

    content = output_content(study, spec.name, ard, data)
    if isinstance(content, TableContent):
        text = table_rtf(content)
    else:
        text = _figure_rtf(study, spec, ard, data, content, work)
    name = tlf_file_name(spec)
    (folder / name).write_text(text, encoding="ascii", newline="\n")
    return TlfEntry(number=spec.id, kind=spec.kind, title=spec.title,
                    population=content.population, file=name,
                    source_datasets=tuple(content.source_datasets))


def _csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: a leading formula character gets a ``'``."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def index_csv(entries: Sequence[TlfEntry]) -> str:
    """``index.csv``: a header row, then one row per output in output order."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(INDEX_COLUMNS)
    for entry in entries:
        writer.writerow([_csv_cell(v) for v in entry.values()])
    return buffer.getvalue()


def index_html(entries: Sequence[TlfEntry], study_id: str) -> str:
    """``index.html``: the index as an HTML table, each file linked; every text escaped."""
    esc = html.escape
    head = "".join(f"<th>{esc(c.replace('_', ' ').capitalize())}</th>" for c in INDEX_COLUMNS)
    rows = []
    for entry in entries:
        cells = [esc(v) for v in entry.values()]
        cells[4] = f'<a href="{esc(quote(entry.file))}">{cells[4]}</a>'
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    title = esc(f"{study_id}: tables, listings and figures")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{title}</title>",
        "<style>body{font-family:Arial,Helvetica,sans-serif;font-size:10pt}"
        "table{border-collapse:collapse}th,td{text-align:left;vertical-align:top;"
        "padding:2px 8px;border-bottom:1px solid #ccc}</style>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>",
        *rows,
        "</tbody>\n</table>",
        "</body>",
        "</html>",
        "",
    ])


def out_dir_problem(out_dir: Path) -> str | None:
    """Why ``out_dir`` may not be replaced by a TLF package (``None``: it may): only a new or
    empty folder, or one holding a package (its ``index.csv``), is replaced."""
    if out_dir.is_symlink() or (out_dir.exists() and not out_dir.is_dir()):
        return f"{out_dir} exists and is not a folder"
    if out_dir.is_dir() and any(out_dir.iterdir()) and not (out_dir / INDEX_FILES[0]).is_file():
        return (f"{out_dir} is a folder that holds no TLF package ({INDEX_FILES[0]}); it would "
                "be replaced: choose a new or empty folder")
    return None


def write_tlf_package(data: Any, ard: Any, out_dir: Path | str) -> list[Path]:
    """Write every numbered output of ``data.study`` as an RTF file, plus ``index.csv`` and
    ``index.html``, into ``out_dir`` (replacing it); returns the files written (outputs in
    study-definition order, then the two index files).

    ``data`` is the validated :class:`~trialreport.data.TrialData` (listings and figures are
    drawn from the records), ``ard`` its analysis results data. On any failure a
    :class:`TlfError` names the output and ``out_dir`` is left as it was; a folder that is not
    a TLF package is never replaced (:func:`out_dir_problem`).
    """
    study = data.study
    out_dir = Path(out_dir)
    problem = out_dir_problem(out_dir)
    if problem:
        raise TlfError(f"TLF package: {problem}")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}-", dir=out_dir.parent))
    try:
        folder, work = stage / "tlf", stage / "images"
        folder.mkdir()
        work.mkdir()
        entries = []
        for spec in study.output_specs:
            try:
                entries.append(_write_output(study, spec, ard, data, folder, work))
            except Exception as exc:  # any failure: name the output, write nothing
                raise TlfError(f"TLF package: {spec.caption} ({spec.name}): "
                               f"{type(exc).__name__}: {exc}") from exc
        csv_name, html_name = INDEX_FILES
        (folder / csv_name).write_text(index_csv(entries), encoding="utf-8", newline="")
        (folder / html_name).write_text(index_html(entries, study.id), encoding="utf-8",
                                        newline="\n")
        if out_dir.exists():  # swapped out, removed with the stage
            out_dir.rename(stage / "previous")
        folder.rename(out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return [out_dir / e.file for e in entries] + [out_dir / name for name in INDEX_FILES]
