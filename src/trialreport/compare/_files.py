"""The comparison as files: ``changes-vOLD-vNEW.html`` (a small Jinja2 template, every text
escaped) and ``.docx`` (python-docx, real Word tables). Both are written atomically."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from trialreport.compare._display import (
    KEY_HEADERS,
    key_cells,
    method_text,
    plain,
    runs,
    value_text,
)
from trialreport.compare._model import Changes, ResultChange
from trialreport.supplement.compare import REL_TOL

__all__ = ["FILE_LIMIT", "changes_docx", "changes_html", "file_stem", "write_changes"]

#: Most rows per output (and sentences) written to a file; the rest are counted.
FILE_LIMIT = 1000
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._+-]")


def file_stem(changes: Changes) -> str:
    """``changes-v1.0.0-v1.1.0`` (characters unsafe in a file name become ``_``)."""
    old = _UNSAFE_NAME.sub("_", changes.old_version)
    new = _UNSAFE_NAME.sub("_", changes.new_version)
    return f"changes-v{old}-v{new}"


def _row(change: ResultChange) -> dict[str, Any]:
    statistic = change.key.statistic
    new = value_text(statistic, change.new)
    method = method_text(change)
    return {"status": change.status, "key": key_cells(change.key),
            "old": value_text(statistic, change.old), "new": f"{new}; {method}" if method else new}


def _context(changes: Changes, limit: int) -> dict[str, Any]:
    text = changes.text
    return {
        "old_version": plain(changes.old_version), "new_version": plain(changes.new_version),
        "old_source": plain(changes.old_source), "new_source": plain(changes.new_source),
        "n_changed": changes.count("changed"), "n_added": changes.count("added"),
        "n_removed": changes.count("removed"), "compared": changes.compared,
        "tolerance": f"{REL_TOL:g}".replace("e-0", "e-"), "any_change": changes.changed,
        "key_headers": [h.capitalize() for h in KEY_HEADERS],
        "outputs": [{"label": plain(o.label), "summary": o.summary(),
                     "rows": [_row(c) for c in o.results[:limit]],
                     "hidden": max(0, len(o.results) - limit)} for o in changes.outputs],
        "text": text, "text_skipped": plain(changes.text_skipped),
        "text_rows": [{"section": plain(s.section), "old": runs(s.old_tokens),
                       "new": runs(s.new_tokens)} for s in (text or [])[:limit]],
        "text_hidden": max(0, len(text or []) - limit),
        "notes": [plain(n) for n in changes.notes],
    }


def changes_html(changes: Changes, limit: int = FILE_LIMIT) -> str:
    """The comparison as one self-contained HTML page (no scripts, no external resources)."""
    import jinja2

    template = (resources.files("trialreport") / "resources" / "compare"
                / "changes.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True)
    return env.from_string(template).render(**_context(changes, limit))


def _docx_table(document: Any, header: list[str], rows: list[list[Any]]) -> None:
    """A Word table with a bold header row that repeats on each page; a cell is a string or
    a list of ``(text, changed, kind)`` runs (kind "del" is struck through, "ins" bold)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, RGBColor

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    row_pr = table.rows[0]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    row_pr.append(repeat)
    for values in rows:
        cells = table.add_row().cells
        for cell, value in zip(cells, values, strict=True):
            paragraph = cell.paragraphs[0]
            if isinstance(value, str):
                paragraph.add_run(value)
                continue
            for text, changed, kind in value:
                run = paragraph.add_run(text)
                if changed and kind == "del":
                    run.font.strike = True
                    run.font.color.rgb = RGBColor(0xB0, 0x00, 0x00)
                elif changed:
                    run.bold = True
                    run.font.color.rgb = RGBColor(0x00, 0x70, 0x00)
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(8)


def changes_docx(changes: Changes, path: Path, limit: int = FILE_LIMIT) -> Path:
    """Write the comparison as a Word document with real tables (python-docx)."""
    from docx import Document
    from docx.enum.section import WD_ORIENT

    ctx = _context(changes, limit)
    document = Document()
    section = document.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    document.add_heading(f"Changes from version {ctx['old_version']} to version "
                         f"{ctx['new_version']}", level=1)
    document.add_paragraph(f"Old: {ctx['old_source']}")
    document.add_paragraph(f"New: {ctx['new_source']}")
    document.add_paragraph(
        f"Results: {ctx['n_changed']} changed, {ctx['n_added']} added, {ctx['n_removed']} "
        f"removed ({ctx['compared']} in both versions). Values are shown at full precision, "
        f"with the report's rounding where it differs; a value counts as changed when it "
        f"differs by more than a relative {ctx['tolerance']} or its method changed.")
    if not changes.changed:
        document.add_paragraph().add_run("Nothing changed.").bold = True
    header = ["Status", *ctx["key_headers"], f"Old (v{ctx['old_version']})",
              f"New (v{ctx['new_version']})"]
    for output in ctx["outputs"]:
        document.add_heading(output["label"], level=2)
        document.add_paragraph(output["summary"])
        _docx_table(document, header, [[r["status"], *r["key"], r["old"], r["new"]]
                                       for r in output["rows"]])
        if output["hidden"]:
            document.add_paragraph(f"\u2026 and {output['hidden']} more in this output.")
    document.add_heading("Report text", level=2)
    if changes.text is None:
        document.add_paragraph(f"Not compared: {ctx['text_skipped']}.")
    elif not changes.text:
        document.add_paragraph("No sentence of the report text changed.")
    else:
        shown = (f" (the first {len(ctx['text_rows'])} are shown)"
                 if ctx["text_hidden"] else "")
        document.add_paragraph(f"{len(changes.text)} sentence(s) differ{shown}; removed words "
                               "are struck through, new words bold.")
        _docx_table(document, ["Section", f"Old (v{ctx['old_version']})",
                               f"New (v{ctx['new_version']})"],
                    [[s["section"], [(t, c, "del") for t, c in s["old"]],
                      [(t, c, "ins") for t, c in s["new"]]] for s in ctx["text_rows"]])
    if ctx["notes"]:
        document.add_heading("Outputs", level=2)
        for note in ctx["notes"]:
            document.add_paragraph(note, style="List Bullet")
    document.core_properties.title = (f"Changes from version {ctx['old_version']} to version "
                                      f"{ctx['new_version']}")
    _atomic(path, document.save)
    return path


def _atomic(path: Path, write: Callable[[str], Any]) -> None:
    """Write through a temporary file beside ``path`` and move it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(handle)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_changes(changes: Changes, folder: str | Path,
                  limit: int = FILE_LIMIT) -> list[Path]:
    """Write ``changes-vOLD-vNEW.html`` and ``.docx`` into ``folder``; return both paths."""
    folder = Path(folder)
    stem = file_stem(changes)
    html_path, docx_path = folder / f"{stem}.html", folder / f"{stem}.docx"
    text = changes_html(changes, limit)
    _atomic(html_path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    changes_docx(changes, docx_path, limit)
    return [html_path, docx_path]

