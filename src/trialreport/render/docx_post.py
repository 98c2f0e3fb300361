"""Finishing touches on the pandoc-written .docx that pandoc itself cannot express."""

from __future__ import annotations

import copy
from pathlib import Path

from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

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


def _format_table(tbl) -> None:
    _style_cells(tbl)
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


def _run(*children) -> OxmlElement:
    run = el("w:r")
    for child in children:
        run.append(child)
    return run


def _text(value: str) -> OxmlElement:
    text = el("w:t")
    text.set(qn("xml:space"), "preserve")
    text.text = value
    return text


def _heading_entries(body, depth: int) -> list[tuple[int, str, str]]:
    entries = []
    for para in body.iter(qn("w:p")):
        ppr = para.find(qn("w:pPr"))
        style = ppr.find(qn("w:pStyle")) if ppr is not None else None
        name = style.get(qn("w:val"), "") if style is not None else ""
        if not name.startswith("Heading") or not name[7:].isdigit():
            continue
        level = int(name[7:])
        if level > depth:
            continue
        anchor = None
        prev = para.getprevious()
        while prev is not None and prev.tag == qn("w:bookmarkStart"):
            anchor = prev.get(qn("w:name"))
            prev = prev.getprevious()
        if anchor is None:
            inner = para.find(qn("w:bookmarkStart"))
            anchor = inner.get(qn("w:name")) if inner is not None else None
        text = "".join(t.text or "" for t in para.iter(qn("w:t"))).strip()
        if anchor and text:
            entries.append((level, text, anchor))
    return entries


def _fill_toc(doc, depth: int) -> None:
    """Pre-fill pandoc's TOC field so viewers that do not update fields still show it.

    Word refreshes the field (and its page numbers) when the document is opened.
    """
    body = doc.element.body
    instr = next(
        (i for i in body.iter(qn("w:instrText")) if (i.text or "").strip().startswith("TOC")), None
    )
    if instr is None:
        return
    run = instr.getparent()
    para = run.getparent()
    end = [f for f in run.iter(qn("w:fldChar")) if f.get(qn("w:fldCharType")) == "end"]
    if not end or para.tag != qn("w:p"):
        return
    run.remove(end[0])
    anchor_para = para
    for level, text, bookmark in _heading_entries(body, depth):
        p = el("w:p")
        ppr = el("w:pPr")
        ppr.append(el("w:pStyle", **{"w:val": f"TOC{min(level, 3)}"}))
        p.append(ppr)
        link = el("w:hyperlink", **{"w:anchor": bookmark, "w:history": "1"})
        link.append(_run(_text(text)))
        link.append(_run(el("w:tab")))
        link.append(_run(el("w:fldChar", **{"w:fldCharType": "begin"})))
        field = el("w:instrText")
        field.set(qn("xml:space"), "preserve")
        field.text = f" PAGEREF {bookmark} \\h "
        link.append(_run(field))
        link.append(_run(el("w:fldChar", **{"w:fldCharType": "separate"})))
        link.append(_run(_text("")))
        link.append(_run(el("w:fldChar", **{"w:fldCharType": "end"})))
        p.append(link)
        anchor_para.addnext(p)
        anchor_para = p
    closing = el("w:p")
    closing.append(_run(el("w:fldChar", **{"w:fldCharType": "end"})))
    anchor_para.addnext(closing)


def postprocess_docx(path: Path, running_header: str, toc_depth: int = 2) -> None:
    """Running header text, landscape-section headers, CSR table formatting, filled TOC."""
    doc = Document(str(path))
    _set_running_header(doc, running_header)
    _fill_toc(doc, toc_depth)
    _inherit_headers(doc)
    for tbl in doc.element.body.iter(qn("w:tbl")):
        _format_table(tbl)
        _space_after_table(tbl)
    doc.save(str(path))
