"""Finishing touches on the pandoc-written .docx that pandoc itself cannot express."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from docx import Document
from docx.oxml.ns import qn

from trialreport.render.docx_fields import (
    Heading,
    assign_pages,
    fill_toc,
    layout_pages,
    number_headings,
    request_field_update,
)
from trialreport.render.docx_package import normalise_package, report_fields, set_core_properties
from trialreport.render.ooxml import border, el

PLACEHOLDER = "[running-header]"
#: Tables with at most this many rows are kept on one page.
SMALL_TABLE_ROWS = 25
_TEXT_STYLES = {None, "Compact", "BodyText", "FirstParagraph", "Normal"}


def _get_or_add(parent, tag: str, first: bool = False):
    child = parent.find(qn(tag))
    if child is None:
        child = el(tag)
        if first:
            parent.insert(0, child)
        else:
            parent.append(child)
    return child


def _set_running_header(doc, text: str) -> None:
    """Replace the placeholder in every header part (without creating new headers)."""
    for rel in doc.part.rels.values():
        if not rel.reltype.endswith("/header") or rel.is_external:
            continue
        element = rel.target_part.element
        for node in element.iter(qn("w:t")):
            if node.text and PLACEHOLDER in node.text:
                node.text = node.text.replace(PLACEHOLDER, text)


def _inherit_headers(doc) -> None:
    """Sections made by landscape breaks get the document's header, footer and margins."""
    body = doc.element.body
    final = body.find(qn("w:sectPr"))
    if final is None:
        return
    refs = [el for el in final if el.tag in (qn("w:headerReference"), qn("w:footerReference"))]
    margins = final.find(qn("w:pgMar"))
    for sect in list(body.iter(qn("w:sectPr"))):
        if sect is final:
            continue
        if (
            sect.find(qn("w:headerReference")) is None
            and sect.find(qn("w:footerReference")) is None
        ):
            for ref in reversed(refs):
                sect.insert(0, copy.deepcopy(ref))
        old = sect.find(qn("w:pgMar"))
        if margins is not None and old is not None:
            sect.replace(old, copy.deepcopy(margins))


def _style_cells(tbl) -> None:
    for p in tbl.iter(qn("w:p")):
        ppr = _get_or_add(p, "w:pPr", first=True)
        style = ppr.find(qn("w:pStyle"))
        if style is None:
            style = el("w:pStyle")
            ppr.insert(0, style)
        if style.get(qn("w:val")) in _TEXT_STYLES:
            style.set(qn("w:val"), "TableText")


def _border(tc, side: str, size: str | None) -> None:
    tcpr = _get_or_add(tc, "w:tcPr", first=True)
    borders = tcpr.find(qn("w:tcBorders"))
    if borders is None:
        borders = el("w:tcBorders")
        # tcBorders follows tcW/gridSpan/vMerge in the schema order
        anchor = [c for c in tcpr if c.tag in (qn("w:tcW"), qn("w:gridSpan"), qn("w:vMerge"))]
        tcpr.insert(tcpr.index(anchor[-1]) + 1 if anchor else 0, borders)
    for old in borders.findall(qn(f"w:{side}")):
        borders.remove(old)
    borders.append(border(side, size))


def _rows(tbl) -> list:
    return [tr for tr in tbl if tr.tag == qn("w:tr")]


def _is_header(tr) -> bool:
    trpr = tr.find(qn("w:trPr"))
    return trpr is not None and trpr.find(qn("w:tblHeader")) is not None


#: Left indent per leading no-break space of a row label, and the hanging indent of wrapped
#: label lines, in twentieths of a point (9 pt Arial: a space is about 2.5 pt).
NBSP_TWIPS = 50
HANGING_TWIPS = 160


def _indent_labels(tbl) -> None:
    """Row labels indented with no-break spaces (great_tables) get a real left indent, and
    every label a hanging indent, so that a wrapped label continues under its own text."""
    for tr in _rows(tbl):
        if _is_header(tr):
            continue
        tc = tr.find(qn("w:tc"))
        if tc is None:
            continue
        for p in tc.findall(qn("w:p")):
            texts = list(p.iter(qn("w:t")))
            lead = 0
            if texts and texts[0].text:
                stripped = texts[0].text.lstrip("\u00a0")
                lead = len(texts[0].text) - len(stripped)
                texts[0].text = stripped
            ind = p.get_or_add_pPr().get_or_add_ind()  # python-docx keeps the schema order
            ind.set(qn("w:left"), str(lead * NBSP_TWIPS + HANGING_TWIPS))
            ind.set(qn("w:hanging"), str(HANGING_TWIPS))


def _format_table(tbl) -> None:
    _style_cells(tbl)
    _indent_labels(tbl)
    rows = _rows(tbl)
    header = [tr for tr in rows if _is_header(tr)]
    for i, tr in enumerate(header):
        last = i == len(header) - 1
        for tc in tr.iter(qn("w:tc")):
            tcpr = tc.find(qn("w:tcPr"))
            span = tcpr.find(qn("w:gridSpan")) if tcpr is not None else None
            vmerge = tcpr.find(qn("w:vMerge")) if tcpr is not None else None
            if last:
                _border(tc, "bottom", "6")
            elif span is not None and int(span.get(qn("w:val"), "1")) > 1:
                _border(tc, "bottom", "4")  # spanner underline
            elif vmerge is not None:
                _border(tc, "bottom", None)
            else:
                _border(tc, "bottom", None)
    for tr in rows:
        trpr = _get_or_add(tr, "w:trPr", first=True)
        if trpr.find(qn("w:cantSplit")) is None:
            trpr.insert(0, el("w:cantSplit"))
    if len(rows) <= SMALL_TABLE_ROWS:
        for tr in rows[:-1]:
            for p in tr.iter(qn("w:p")):
                ppr = _get_or_add(p, "w:pPr", first=True)
                if ppr.find(qn("w:keepNext")) is None:
                    style = ppr.find(qn("w:pStyle"))
                    ppr.insert(1 if style is not None else 0, el("w:keepNext"))
    else:
        for tr in header:  # long tables: at least keep the header with the first row
            for p in tr.iter(qn("w:p")):
                ppr = _get_or_add(p, "w:pPr", first=True)
                if ppr.find(qn("w:keepNext")) is None:
                    style = ppr.find(qn("w:pStyle"))
                    ppr.insert(1 if style is not None else 0, el("w:keepNext"))


def _space_after_table(tbl) -> None:
    """Body text right after a table gets some air (Word has no 'space after table')."""
    nxt = tbl.getnext()
    while nxt is not None and nxt.tag in (qn("w:bookmarkEnd"), qn("w:bookmarkStart")):
        nxt = nxt.getnext()
    if nxt is None or nxt.tag != qn("w:p"):
        return
    ppr = _get_or_add(nxt, "w:pPr", first=True)
    style = ppr.find(qn("w:pStyle"))
    if style is not None and style.get(qn("w:val")) in ("TableNote", "TableCaption"):
        return
    spacing = ppr.find(qn("w:spacing"))
    if spacing is None:
        spacing = el("w:spacing")
        # schema order: pStyle, keepNext, keepLines, ..., spacing comes before ind/jc/rPr
        later = [c for c in ppr if c.tag in (qn("w:ind"), qn("w:jc"), qn("w:rPr"))]
        if later:
            later[0].addprevious(spacing)
        else:
            ppr.append(spacing)
    spacing.set(qn("w:before"), "160")


def postprocess_docx(path: Path, running_header: str, toc_depth: int = 2,
                     metadata: Mapping[str, Any] | None = None) -> None:
    """Running header, heading list numbering, CSR table formatting, document properties and
    a table of contents with page numbers (see :mod:`trialreport.render.docx_fields`).

    ``metadata`` is the book metadata (``metadata.yaml`` of the build). Page numbers come from
    a LibreOffice layout when ``soffice`` is installed; otherwise, or when a heading cannot be
    found there, the file asks Word to update its fields when opened.
    """
    metadata = metadata or {}
    doc = Document(str(path))
    notice = report_fields(metadata)["notice"]
    _set_running_header(doc, running_header + (f" \u2014 {notice}" if notice else ""))
    headings = number_headings(doc)
    _move_toc_to_marker(doc)
    _page_breaks_around_toc(doc)
    _inherit_headers(doc)
    for tbl in doc.element.body.iter(qn("w:tbl")):
        _format_table(tbl)
        _space_after_table(tbl)
    set_core_properties(doc, metadata)
    listed = [h for h in headings if h.level <= toc_depth and h.anchor and h.text]
    has_toc = fill_toc(doc, listed, toc_depth)
    doc.save(str(path))
    if has_toc:
        pages = layout_pages(path)
        if pages is not None and assign_pages(listed, pages):
            doc = Document(str(path))
            _replace_toc(doc, listed, toc_depth)
        else:
            doc = Document(str(path))
            request_field_update(doc)
        doc.save(str(path))
    normalise_package(path, metadata)


def _page_break_before(para) -> None:
    ppr = para.get_or_add_pPr()
    if ppr.find(qn("w:pageBreakBefore")) is None:
        ppr._insert_pageBreakBefore(el("w:pageBreakBefore"))


TOC_MARKER = "TRIALREPORT-TOC-HERE"


def _move_toc_to_marker(doc) -> None:
    """Move the table of contents to where the book asks for it (a ``.trialreport-toc`` div,
    which the Lua filter turns into a marker paragraph): after the title page and synopsis, as
    ICH E3 orders them. Without a marker the contents stay at the start."""
    body = doc.element.body
    marker = next((p for p in body.iter(qn("w:p"))
                   if "".join(t.text or "" for t in p.iter(qn("w:t"))) == TOC_MARKER), None)
    if marker is None:
        return
    toc = next((sdt for sdt in body.iter(qn("w:sdt"))
                if any(g.get(qn("w:val")) == "Table of Contents"
                       for g in sdt.iter(qn("w:docPartGallery")))), None)
    if toc is not None:
        marker.addprevious(toc)  # lxml moves the element
    marker.getparent().remove(marker)


def _page_breaks_around_toc(doc) -> None:
    """The contents start a page after the title page, and the first chapter a page after
    them (chapters otherwise follow on without a page break)."""
    body = doc.element.body
    toc = next((sdt for sdt in body.iter(qn("w:sdt"))
                if any(g.get(qn("w:val")) == "Table of Contents"
                       for g in sdt.iter(qn("w:docPartGallery")))), None)
    if toc is None:
        return
    first = next(toc.iter(qn("w:p")), None)
    if first is not None:
        _page_break_before(first)
    after = toc.getnext()
    while after is not None and after.tag != qn("w:p"):
        after = after.getnext()
    if after is not None:
        _page_break_before(after)


def _replace_toc(doc, headings: list[Heading], depth: int) -> None:
    """Write the page numbers into the TOC entries (PAGEREF results), in document order."""
    results = iter(headings)
    for instr in list(doc.element.body.iter(qn("w:instrText"))):
        if not (instr.text or "").strip().startswith("PAGEREF"):
            continue
        heading = next(results, None)
        if heading is None:
            break
        run = instr.getparent()
        sep = run.getnext()
        value = sep.getnext() if sep is not None else None
        texts = list(value.iter(qn("w:t"))) if value is not None else []
        if texts:
            texts[0].text = "" if heading.page is None else str(heading.page)
