"""Stand-alone RTF files of numbered tables, listings and figures (the TLF package), via rtflite.

Each file carries what the book's table carries, from the same :class:`TableContent`: the
numbered title and the population line with big N, column headers with big N and spanners,
the body with indented (and bold) row labels and row-group headings, footnotes, the source
line, and ``Page x of y`` in the page header. Tables the book puts on landscape pages
(:func:`trialreport.tables._content.needs_landscape`) get landscape pages, and so do tables whose
columns would otherwise break words (:func:`table_layout`); the columns are fitted to the page
by the book's method. A figure is embedded as its PNG with its title, notes and source.

Pages are broken where the measured text fills them (:mod:`trialreport.tables._paginate`);
each page repeats the title, the population line (with the row group, in listings) and the
column headers; the notes close the last page. rtflite breaks a page where the text of its
``subline_by`` column changes, so that column holds the population line and an invisible
page marker (a zero-width space, once or twice, alternating from page to page).

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
#: rtflite's rows per page: more than any table has; the pages are broken here instead.
ONE_PAGE_ROWS = 10**9
#: Title in points, and the space before and after its paragraph (twips).
TITLE_SIZE, TITLE_SPACING = 10, 60
#: Notes and source line in points.
NOTE_SIZE = 8
#: A page marker rtflite sees as different text and a reader does not see (zero-width space).
_MARK = "\\uc0\\u8203 "
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
                   nrow=ONE_PAGE_ROWS, border_first="single",
                   border_last="single")


def _common(titles: Sequence[str], footnotes: Sequence[str], source: str) -> dict[str, Any]:
    """Page header (``Page x of y``), title lines (plain text; the first bold), footnotes and
    source (paragraphs after the table or figure) of a TLF file."""
    from rtflite import RTFFootnote, RTFPageHeader, RTFSource, RTFTitle

    k = len(titles)
    parts: dict[str, Any] = {
        "rtf_page_header": RTFPageHeader(text=PAGE_HEADER, text_font=[FONT],
                                         text_font_size=[NOTE_SIZE], text_convert=[False]),
        "rtf_title": RTFTitle(text=[rtf_text(t) for t in titles], text_font=[FONT] * k,
                              text_font_size=[TITLE_SIZE, *[FONT_SIZE] * (k - 1)],
                              text_format=["b", *[""] * (k - 1)],
                              text_justification=["l"] * k, text_convert=[False] * k,
                              text_space_before=[float(TITLE_SPACING)] * k,
                              text_space_after=[float(TITLE_SPACING)] * k),
        "rtf_source": RTFSource(text=[rtf_text(source)], as_table=False,
                                text_justification=[["l"]], text_font=[[FONT]],
                                text_font_size=[[NOTE_SIZE]], text_convert=[[False]]),
    }
    if footnotes:
        parts["rtf_footnote"] = RTFFootnote(text=[rtf_text(n) for n in footnotes],
                                            as_table=False, text_justification=[["l"]],
                                            text_font=[[FONT]], text_font_size=[[NOTE_SIZE]],
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


def _headers(content: TableContent, widths: list[float], size: int) -> list[Any]:
    """Column header rows (bold): spanners, ruled underneath, over the labels with big N; a
    rule above the first row and under the last, no vertical lines."""
    from rtflite import RTFColumnHeader

    rows = []
    heads = _header_texts(content, widths)
    for i, (texts, rel, ruled) in enumerate(heads):
        k = len(texts)
        labels = i == len(heads) - 1
        just = (["l", *("l" if c.id in content.left_columns else "c" for c in content.columns)]
                if labels else ["l", *["c"] * (k - 1)])
        rows.append(RTFColumnHeader(
            text=[rtf_text(t) for t in texts], col_rel_width=rel,
            border_top=["single" if i == 0 else ""] * k,
            border_bottom=["single" if labels or r else "" for r in ruled],
            border_left=[""] * k, border_right=[""] * k, text_justification=just,
            text_font=[FONT] * k, text_font_size=[size] * k, text_format=["b"] * k,
            text_convert=[False] * k))
    return rows


def _page_rows(content: TableContent, widths_in: Sequence[float], size: int,
               orientation: str) -> list[int]:
    """The page (from 0) of each body row, from the measured heights of the page's parts."""
    from trialreport.tables import _paginate as P

    text_in = _text_width(orientation)
    ids = [c.id for c in content.columns]

    def row(r: Row) -> float:
        cells = [(content.stub_text(r), widths_in[0], r.bold),
                 *((content.cell(r, c), w, False) for c, w in zip(ids, widths_in[1:],
                                                                   strict=True))]
        return P.row_height(cells, size)

    heads = [P.row_height([(t, w, True) for t, w in zip(texts, rel, strict=True)], size)
             for texts, rel, _ in _header_texts(content, widths_in)]
    title = P.text_height(content.caption, text_in, TITLE_SIZE, True, TITLE_SPACING / 10)
    sub = P.text_height(content.population, text_in, FONT_SIZE)
    if content.grouped:
        sub += max(P.text_height(r.group or "", text_in, FONT_SIZE, True) for r in content.rows)
    notes = sum(P.text_height(n, text_in, NOTE_SIZE) for n in content.footnotes)
    notes += P.text_height(content.source, text_in, NOTE_SIZE)
    height = (A4[1] if orientation == "portrait" else A4[0]) - MARGINS[2] - MARGINS[3]
    room = height * 72 - title - sub - sum(heads)
    groups: list[list[Row]] = []
    for r in content.rows:
        if not groups or r.group != groups[-1][0].group:
            groups.append([])
        groups[-1].append(r)
    blocks = [P.Block([row(r) for r in g],
                      [i + 1 < len(g) and g[i + 1].level > r.level for i, r in enumerate(g)])
              for g in groups]
    pages = P.paginate(blocks, room, notes)
    return [page for block in pages for page in block]


def _header_texts(content: TableContent, widths: Sequence[float]
                  ) -> list[tuple[list[str], list[float], list[bool]]]:
    """Each column-header row (spanners, then labels with big N): plain texts, relative
    widths and which cells are spanners (ruled underneath)."""
    rows = []
    value_width = dict(zip([c.id for c in content.columns], widths[1:], strict=True))
    if content.spanners:
        spanners = {sp.id: sp for sp in content.spanners}
        texts, rel, ruled = [""], [widths[0]], [False]
        for sid, cols in _runs(content):
            rel.append(sum(value_width[c] for c in cols))
            sp = spanners[sid] if sid is not None else None
            texts.append("" if sp is None else sp.label + (f" (N={sp.n})" if sp.n is not None
                                                          else ""))
            ruled.append(sp is not None)
        rows.append((texts, rel, ruled))
    labels = [content.stub_label, *(c.label + (f"\n(N={c.n})" if c.n is not None else "")
                                    for c in content.columns)]
    rows.append((labels, list(widths), [False] * len(labels)))
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
    text_in = _text_width(orientation)
    pages = _page_rows(content, [w / sum(widths) * text_in for w in widths], size, orientation)
    population = f"{{\\f{FONT - 1} {rtf_text(content.population)}"
    frame["page"] = [population
                     + (f"\\line {{\\b {rtf_text(r.group or '')}}}" if content.grouped else "")
                     + _MARK * (1 + page % 2) + "}"
                     for r, page in zip(content.rows, pages, strict=True)]
    just = ["l", *("l" if c in content.left_columns else "c" for c in ids), "l"]
    k = len(frame)
    body = RTFBody(  # every attribute the same in each row: see _stub
        col_rel_width=[*widths, 1.0], text_justification=[just],
        text_font=[[FONT] * k], text_font_size=[[size] * k],
        text_convert=[[False] * k],
        border_left=[[""] * k], border_right=[[""] * k], border_top=[[""] * k],
        border_bottom=[[""] * k], border_first=[["single"] * k],
        border_last=[["single"] * k], subline_by=["page"],
    )
    doc = RTFDocument(df=pl.DataFrame(frame), rtf_page=_page(orientation), rtf_body=body,
                      rtf_column_header=_headers(content, widths, size),
                      **_common([content.caption], content.footnotes, content.source))
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
    titles = [content.caption, *([content.population] if content.population else [])]
    doc = RTFDocument(rtf_figure=figure, rtf_page=_page("portrait"),
                      **_common(titles, content.footnotes, content.source))
    return doc.rtf_encode()
