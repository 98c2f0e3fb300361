"""Stand-alone RTF files of numbered tables, listings and figures (the TLF package), via rtflite.

Each file carries what the book's table carries, from the same :class:`TableContent`: the
numbered title and the population line with big N, column headers with big N and spanners,
the body with indented (and bold) row labels and row-group headings, footnotes, the source
line, and ``Page x of y`` in the page header. Tables the book puts on landscape pages
(:func:`trialreport.tables._content.needs_landscape`) get landscape pages, and so do tables whose
columns would otherwise break words (:func:`table_layout`); the columns are fitted to the page
by the book's method. A figure is embedded as its PNG with its title, notes and source.

rtflite writes text as given (no escaping of ``\\``, ``{``, ``}``; characters up to U+00FF raw;
optional LaTeX-style conversion that would read ``_`` and ``^`` as sub/superscripts), so every
text is escaped here by :func:`rtf_text` into 7-bit RTF and rtflite's conversion is off.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trialreport.tables._content import (
    INDENT,
    PAGE_CHARS,
    FigureContent,
    Row,
    TableContent,
    fit_widths,
    needs_landscape,
)

__all__ = ["PAGE_HEADER", "figure_rtf", "rtf_text", "table_layout", "table_rtf"]

#: A4 in inches (the book's paper size).
A4 = (8.27, 11.69)
#: Margins in inches: left, right, top, bottom, header, footer.
MARGINS = (1.0, 1.0, 1.0, 1.0, 0.5, 0.5)
#: Rows per page (rtflite counts wrapped lines, headers, notes): 9 pt lines on A4.
ROWS_PER_PAGE = {"portrait": 56, "landscape": 36}
#: Arial in rtflite's font table (the book's table font).
FONT = 4
#: Table text in points, and the smaller size for tables that do not fit otherwise.
FONT_SIZE, SMALL_FONT_SIZE = 9, 8
#: Height in inches a figure page keeps free for its title, notes and source.
FIGURE_TEXT_IN = 2.2
#: ``Page x of y`` as RTF fields (rtflite's default puts no space between x and "of").
PAGE_HEADER = ("Page {\\field{\\*\\fldinst PAGE }{\\fldrslt 1}} of "
               "{\\field{\\*\\fldinst NUMPAGES }{\\fldrslt 1}}")

_SPECIAL = {"\\": "\\\\", "{": "\\{", "}": "\\}", "\n": "\\line ", "\t": "\\tab ",
            "\u00a0": "\\~"}


def rtf_text(text: str) -> str:
    """``text`` as 7-bit RTF: ``\\``, ``{``, ``}`` escaped, a line break as ``\\line``, a
    non-breaking space as ``\\~``, every other non-ASCII or control character as
    ``\\uN?`` (UTF-16 code units, so characters beyond U+FFFF survive too)."""
    out: list[str] = []
    for ch in text:
        code = ord(ch)
        if ch in _SPECIAL:
            out.append(_SPECIAL[ch])
        elif 32 <= code < 127:
            out.append(ch)
        else:
            units = ch.encode("utf-16-le")
            for i in range(0, len(units), 2):
                unit = int.from_bytes(units[i:i + 2], "little", signed=True)
                out.append(f"\\u{unit}?")
    return "".join(out)


def _text_width(orientation: str) -> float:
    """Width of the text area in inches."""
    width = A4[0] if orientation == "portrait" else A4[1]
    return width - MARGINS[0] - MARGINS[1]


def _page_chars(orientation: str, size: float) -> float:
    """Characters across the text area at ``size`` points: the book's measure
    (:data:`PAGE_CHARS` at 9 pt across a portrait A4 page; column needs include padding)."""
    return PAGE_CHARS * _text_width(orientation) / _text_width("portrait") * FONT_SIZE / size


def _stub_floor(content: TableContent) -> int:
    """The stub's narrowest width with its indentation (the book's floor leaves it out: its
    non-breaking spaces may wrap in HTML), bold words a tenth wider, plus 2 for padding."""
    def word(row: Row) -> float:
        longest = max((len(w) for w in row.label.split()), default=0)
        return len(INDENT) * row.level + longest * (1.1 if row.bold else 1.0)

    return math.ceil(max((word(r) for r in content.rows), default=0)) + 2


def table_layout(content: TableContent) -> tuple[str, int, dict[str, float]]:
    """Orientation, table font size and column widths (percent) of a table's RTF.

    The page is landscape when the book puts the table on a landscape page
    (:func:`needs_landscape`), else the first of portrait 9 pt, portrait 8 pt, landscape 9 pt,
    landscape 8 pt on which every column gets its narrowest width (the book's, the stub's
    with its indentation: a narrower column would break words); the columns are then fitted
    to the page by the book's method (:func:`fit_widths`).
    """
    floors = dict(content.width_floors)
    floors[content.stub_id] = max(floors[content.stub_id], _stub_floor(content))
    floor = sum(floors.values())
    book = "landscape" if needs_landscape(content) else "portrait"
    choices = [(o, size) for o in dict.fromkeys([book, "landscape"])
               for size in (FONT_SIZE, SMALL_FONT_SIZE)]
    orientation, size = next(((o, s) for o, s in choices
                              if floor <= _page_chars(o, s)), choices[-1])
    widths = fit_widths(content.width_wants, floors, _page_chars(orientation, size))
    return orientation, size, widths


def _page(orientation: str) -> Any:
    from rtflite import RTFPage

    width, height = A4 if orientation == "portrait" else A4[::-1]
    return RTFPage(orientation=orientation, width=width, height=height, margin=list(MARGINS),
                   col_width=_text_width(orientation),
                   nrow=ROWS_PER_PAGE[orientation], border_first="single",
                   border_last="single")


def _common(caption: str, population: str, footnotes: Sequence[str], source: str
            ) -> dict[str, Any]:
    """Page header, title block, footnotes and source of a TLF file (plain paragraphs)."""
    from rtflite import RTFFootnote, RTFPageHeader, RTFSource, RTFTitle

    titles = [rtf_text(caption), *([rtf_text(population)] if population else [])]
    parts: dict[str, Any] = {
        "rtf_page_header": RTFPageHeader(text=PAGE_HEADER, text_font=[FONT],
                                         text_font_size=[FONT_SIZE], text_convert=[False]),
        "rtf_title": RTFTitle(text=titles, text_font=[FONT] * len(titles),
                              text_font_size=[10] * len(titles),
                              text_format=["b", *[""] * (len(titles) - 1)],
                              text_convert=[False] * len(titles),
                              text_space_before=[60.0] * len(titles),
                              text_space_after=[60.0] * len(titles)),
        "rtf_source": RTFSource(text=[rtf_text(source)], as_table=False,
                                text_justification=[["l"]], text_font=[[FONT]],
                                text_font_size=[[8]], text_convert=[[False]]),
    }
    if footnotes:
        parts["rtf_footnote"] = RTFFootnote(text=[rtf_text(n) for n in footnotes],
                                            as_table=False, text_justification=[["l"]],
                                            text_font=[[FONT]], text_font_size=[[8]],
                                            text_convert=[[False]])
    return parts


def _runs(content: TableContent) -> list[tuple[str | None, list[str]]]:
    """Value columns in display order as runs: ``(spanner id, columns)`` or ``(None, [col])``.

    A spanner's columns must be adjacent in column order (as the book shows them)."""
    order = [c.id for c in content.columns]
    owner: dict[str, str] = {}
    for sp in content.spanners:
        idx = sorted(order.index(c) for c in sp.columns)
        if idx != list(range(idx[0], idx[0] + len(idx))):
            raise ValueError(f"{content.label}: spanner {sp.id!r} spans columns that are not "
                             f"adjacent ({', '.join(sp.columns)})")
        owner.update({c: sp.id for c in sp.columns})
    runs: list[tuple[str | None, list[str]]] = []
    for cid in order:
        sid = owner.get(cid)
        if sid is not None and runs and runs[-1][0] == sid:
            runs[-1][1].append(cid)
        else:
            runs.append((sid, [cid]))
    return runs


def _label(label: str, n: int | None, sep: str) -> str:
    return rtf_text(label) + (f"{sep}(N={n})" if n is not None else "")


def _headers(content: TableContent, widths: list[float], size: int) -> list[Any]:
    """Column header rows: spanners (ruled underneath) over the labels with big N; a rule
    above the first row and under the last, no vertical lines."""
    from rtflite import RTFColumnHeader

    def header(texts: list[str], rel: list[float], top: list[str], bottom: list[str],
               just: list[str]) -> Any:
        k = len(texts)
        return RTFColumnHeader(text=texts, col_rel_width=rel, border_top=top,
                               border_bottom=bottom, border_left=[""] * k,
                               border_right=[""] * k, text_justification=just,
                               text_font=[FONT] * k, text_font_size=[size] * k,
                               text_format=["b"] * k, text_convert=[False] * k)

    value_width = dict(zip([c.id for c in content.columns], widths[1:], strict=True))
    rows = []
    if content.spanners:
        spanners = {sp.id: sp for sp in content.spanners}
        texts, rel, bottom = [""], [widths[0]], [""]
        for sid, cols in _runs(content):
            rel.append(sum(value_width[c] for c in cols))
            if sid is None:
                texts.append("")
                bottom.append("")
            else:
                texts.append(_label(spanners[sid].label, spanners[sid].n, " "))
                bottom.append("single")
        k = len(texts)
        rows.append(header(texts, rel, ["single"] * k, bottom, ["l", *["c"] * (k - 1)]))
    labels = [rtf_text(content.stub_label),
              *(_label(c.label, c.n, "\\line ") for c in content.columns)]
    k = len(labels)
    just = ["l", *("l" if c.id in content.left_columns else "c" for c in content.columns)]
    rows.append(header(labels, widths, ["" if rows else "single"] * k, ["single"] * k, just))
    return rows


def _stub(row: Row) -> str:
    """The stub cell: indented with non-breaking spaces and bold in the text itself, as in the
    book. (rtflite 2.6 applies row-wise attribute matrices page by page from the first row,
    so a bold or indent attribute would land on the wrong rows after a page break.)"""
    text = "\\~" * (len(INDENT) * row.level) + rtf_text(row.label)
    return f"{{\\b {text}}}" if row.bold else text


def table_rtf(content: TableContent) -> str:
    """The RTF document of a numbered table or listing."""
    import polars as pl
    from rtflite import RTFBody, RTFDocument

    if not content.rows:
        raise ValueError(f"{content.caption}: the table has no rows to write")
    stub = "stub"
    ids = [c.id for c in content.columns]
    names = [stub, *(f"c{i}" for i in range(len(ids)))]
    frame: dict[str, list[str]] = {stub: [_stub(r) for r in content.rows]}
    for name, cid in zip(names[1:], ids, strict=True):
        frame[name] = [rtf_text(content.cell(r, cid)) for r in content.rows]
    orientation, size, fitted = table_layout(content)
    widths = [fitted[content.stub_id], *(fitted[c] for c in ids)]
    just = ["l", *("l" if c in content.left_columns else "c" for c in ids)]
    grouped = content.grouped
    if grouped:  # rtflite's page_by: a full-width heading row where the group changes
        frame["group"] = [f"{{\\b {rtf_text(r.group or '')}}}" for r in content.rows]
        widths.append(1.0)  # the group column is not shown
        just.append("l")
    k = len(frame)
    body = RTFBody(  # every attribute the same in each row: see _stub
        col_rel_width=widths, text_justification=[just],
        text_font=[[FONT] * k], text_font_size=[[size] * k],
        text_convert=[[False] * k],
        border_left=[[""] * k], border_right=[[""] * k], border_top=[[""] * k],
        border_bottom=[[""] * k], border_first=[["single"] * k],
        border_last=[["single"] * k],
        **({"page_by": ["group"]} if grouped else {}),
    )
    doc = RTFDocument(df=pl.DataFrame(frame), rtf_page=_page(orientation), rtf_body=body,
                      rtf_column_header=_headers(content, widths[:len(ids) + 1], size),
                      **_common(content.caption, content.population, content.footnotes,
                                content.source))
    return doc.rtf_encode()


def figure_rtf(content: FigureContent, png: Path, size_in: tuple[float, float]) -> str:
    """The RTF document of a numbered figure: ``png`` (drawn at ``size_in`` inches, width and
    height) scaled to fit the portrait text area, under its title, above its notes."""
    from rtflite import RTFDocument, RTFFigure

    width, height = size_in
    if width <= 0 or height <= 0:
        raise ValueError(f"{content.caption}: figure size must be positive, got {size_in}")
    room_w = A4[0] - MARGINS[0] - MARGINS[1]
    room_h = A4[1] - MARGINS[2] - MARGINS[3] - FIGURE_TEXT_IN
    scale = min(1.0, room_w / width, room_h / height)
    figure = RTFFigure(figures=png, fig_width=round(width * scale, 3),
                       fig_height=round(height * scale, 3), fig_align="center")
    doc = RTFDocument(rtf_figure=figure, rtf_page=_page("portrait"),
                      **_common(content.caption, content.population, content.footnotes,
                                content.source))
    return doc.rtf_encode()
