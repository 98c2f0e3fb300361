"""Word as a living document: heading list numbering, the table of contents and its page numbers.

The Lua filter writes captions as SEQ fields and cross-references as REF fields (each with its
computed result) and marks every numbered heading with a zero-length bookmark
``_TrNum_<c|a>_<number>`` (chapter or appendix list). Here the markers become Word list
numbering: one multilevel list ("1", "1.1", "1.1.1") attached to the Heading 1-3 styles, so a
heading a writer adds is numbered too, and one for appendices ("Appendix A", "A.1") set on the
appendix headings. The table of contents is a TOC field whose entries are written out, with
page numbers taken from a LibreOffice layout of the same file when ``soffice`` is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from docx.oxml.ns import qn

from trialreport.render.ooxml import el

MARKER = "_TrNum_"
#: Heading levels that take list numbers (Heading 1-3).
NUMBERED_LEVELS = 3
_LIST_TEXT = {
    "c": ("decimal", ("%1", "%1.%2", "%1.%2.%3")),
    "a": ("upperLetter", ("Appendix %1", "%1.%2", "%1.%2.%3")),
}


@dataclass
class Heading:
    """A heading paragraph of the document as the table of contents lists it."""

    level: int
    number: str  # as shown: "5.1", "Appendix A", "" (unnumbered)
    text: str
    anchor: str | None
    page: int | None = None

    @property
    def entry(self) -> str:
        return f"{self.number} {self.text}" if self.number else self.text


def heading_level(para) -> int | None:
    ppr = para.find(qn("w:pPr"))
    style = ppr.find(qn("w:pStyle")) if ppr is not None else None
    name = style.get(qn("w:val"), "") if style is not None else ""
    if name.startswith("Heading") and name[7:].isdigit():
        return int(name[7:])
    return None


def _paragraph_text(para) -> str:
    return "".join(t.text or "" for t in para.iter(qn("w:t"))).strip()


def _add_list(numbering, kind: str, link_styles: bool) -> str:
    """Add one multilevel list for headings to numbering.xml; returns its numId."""
    abstract_ids = [int(a.get(qn("w:abstractNumId")))
                    for a in numbering.findall(qn("w:abstractNum"))]
    num_ids = [int(n.get(qn("w:numId"))) for n in numbering.findall(qn("w:num"))]
    abstract_id = str(max(abstract_ids, default=0) + 1)
    num_id = str(max(num_ids, default=0) + 1)
    first_format, texts = _LIST_TEXT[kind]
    abstract = el("w:abstractNum", **{"w:abstractNumId": abstract_id})
    abstract.append(el("w:multiLevelType", **{"w:val": "multilevel"}))
    for ilvl, text in enumerate(texts):
        lvl = el("w:lvl", **{"w:ilvl": str(ilvl)})
        lvl.append(el("w:start", **{"w:val": "1"}))
        lvl.append(el("w:numFmt", **{"w:val": first_format if ilvl == 0 else "decimal"}))
        if link_styles:
            lvl.append(el("w:pStyle", **{"w:val": f"Heading{ilvl + 1}"}))
        lvl.append(el("w:suff", **{"w:val": "space"}))
        lvl.append(el("w:lvlText", **{"w:val": text}))
        lvl.append(el("w:lvlJc", **{"w:val": "left"}))
        ppr = el("w:pPr")
        ppr.append(el("w:ind", **{"w:left": "0", "w:firstLine": "0"}))
        lvl.append(ppr)
        abstract.append(lvl)
    # schema order: every abstractNum before the first num
    nums = numbering.findall(qn("w:num"))
    if nums:
        nums[0].addprevious(abstract)
    else:
        numbering.append(abstract)
    num = el("w:num", **{"w:numId": num_id})
    num.append(el("w:abstractNumId", **{"w:val": abstract_id}))
    numbering.append(num)
    return num_id


def _set_numbering(ppr, num_id: str, ilvl: int) -> None:
    numpr = ppr.get_or_add_numPr()
    numpr.get_or_add_ilvl().val = ilvl
    numpr.get_or_add_numId().val = int(num_id)


def number_headings(doc) -> list[Heading]:
    """Turn the heading markers into list numbering; return every heading in order."""
    body = doc.element.body
    numbering = doc.part.numbering_part.element
    chapters = _add_list(numbering, "c", link_styles=True)
    appendices = _add_list(numbering, "a", link_styles=False)
    heading_ids = {f"Heading{level}" for level in range(1, NUMBERED_LEVELS + 1)}
    for level in range(1, NUMBERED_LEVELS + 1):
        style = doc.styles.element.get_by_id(f"Heading{level}")
        if style is not None:
            _set_numbering(style.get_or_add_pPr(), chapters, level - 1)
    for style in doc.styles.element.findall(qn("w:style")):
        # styles built on a heading style ("TOC Heading") must not inherit its numbers
        based = style.find(qn("w:basedOn"))
        if (based is not None and based.get(qn("w:val")) in heading_ids
                and style.get(qn("w:styleId")) not in heading_ids):
            _set_numbering(style.get_or_add_pPr(), "0", 0)
    headings = []
    for para in body.iter(qn("w:p")):
        level = heading_level(para)
        if level is None:
            continue
        kind, number = None, ""
        for mark in list(para.iter(qn("w:bookmarkStart"))):
            name = mark.get(qn("w:name"), "")
            if not name.startswith(MARKER):
                continue
            kind, _, raw = name[len(MARKER):].partition("_")
            number = raw.replace("_", ".")
            end = mark.getnext()
            if end is not None and end.tag == qn("w:bookmarkEnd"):
                end.getparent().remove(end)
            mark.getparent().remove(mark)
        ppr = para.get_or_add_pPr()
        if kind == "a" and level <= NUMBERED_LEVELS:
            _set_numbering(ppr, appendices, level - 1)
            number = f"Appendix {number}" if level == 1 else number
        elif kind is None and level <= NUMBERED_LEVELS:
            _set_numbering(ppr, "0", 0)  # numId 0: this heading is not numbered
        headings.append(Heading(level, number, _paragraph_text(para), _anchor(para)))
    return headings


def _anchor(para) -> str | None:
    prev = para.getprevious()
    anchor = None
    while prev is not None and prev.tag == qn("w:bookmarkStart"):
        anchor = prev.get(qn("w:name"))
        prev = prev.getprevious()
    if anchor is None:
        inner = para.find(qn("w:bookmarkStart"))
        anchor = inner.get(qn("w:name")) if inner is not None else None
    return anchor


def _run(*children):
    run = el("w:r")
    for child in children:
        run.append(child)
    return run


def _text(value: str):
    text = el("w:t")
    text.set(qn("xml:space"), "preserve")
    text.text = value
    return text


def fill_toc(doc, headings: list[Heading], depth: int) -> bool:
    """Write the entries of pandoc's TOC field (its result) so that it reads right as delivered.

    Each entry links to its heading and holds a PAGEREF field whose result is the page number
    when known. Returns False when the document has no TOC field.
    """
    body = doc.element.body
    instr = next((i for i in body.iter(qn("w:instrText"))
                  if (i.text or "").strip().startswith("TOC")), None)
    if instr is None:
        return False
    run = instr.getparent()
    para = run.getparent()
    end = [f for f in run.iter(qn("w:fldChar")) if f.get(qn("w:fldCharType")) == "end"]
    if not end or para.tag != qn("w:p"):
        return False
    run.remove(end[0])
    anchor_para = para
    for heading in headings:
        if heading.level > depth or not heading.anchor or not heading.text:
            continue
        p = el("w:p")
        ppr = el("w:pPr")
        ppr.append(el("w:pStyle", **{"w:val": f"TOC{min(heading.level, 3)}"}))
        p.append(ppr)
        link = el("w:hyperlink", **{"w:anchor": heading.anchor, "w:history": "1"})
        link.append(_run(_text(heading.entry)))
        link.append(_run(el("w:tab")))
        link.append(_run(el("w:fldChar", **{"w:fldCharType": "begin"})))
        field = el("w:instrText")
        field.set(qn("xml:space"), "preserve")
        field.text = f" PAGEREF {heading.anchor} \\h "
        link.append(_run(field))
        link.append(_run(el("w:fldChar", **{"w:fldCharType": "separate"})))
        link.append(_run(_text("" if heading.page is None else str(heading.page))))
        link.append(_run(el("w:fldChar", **{"w:fldCharType": "end"})))
        p.append(link)
        anchor_para.addnext(p)
        anchor_para = p
    closing = el("w:p")
    closing.append(_run(el("w:fldChar", **{"w:fldCharType": "end"})))
    anchor_para.addnext(closing)
    return True


def soffice_path() -> str | None:
    """LibreOffice's command line program, when installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def _normal(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def layout_pages(docx: Path, timeout: float = 180.0) -> list[tuple[str, int]] | None:
    """(heading text, page number) of every heading, from a LibreOffice PDF of ``docx``.

    LibreOffice runs headless with a private profile in a temporary folder (so that parallel
    renders do not share one); None when it is not installed or fails.
    """
    soffice = soffice_path()
    if soffice is None:
        return None
    from pypdf import PdfReader

    with tempfile.TemporaryDirectory(prefix="trialreport-soffice-") as tmp:
        work = Path(tmp)
        source = work / "layout.docx"
        shutil.copyfile(docx, source)
        env = {**os.environ, "HOME": str(work)}
        cmd = [soffice, f"-env:UserInstallation={(work / 'profile').as_uri()}", "--headless",
               "--norestore", "--nolockcheck", "--convert-to", "pdf", "--outdir", str(work),
               str(source)]
        try:
            subprocess.run(cmd, cwd=work, env=env, capture_output=True, timeout=timeout,
                           check=True)
            reader = PdfReader(str(work / "layout.pdf"))
        except (OSError, subprocess.SubprocessError, ValueError):
            return None
        pages: list[tuple[str, int]] = []

        def walk(items) -> None:
            for item in items:
                if isinstance(item, list):
                    walk(item)
                else:
                    page = reader.get_destination_page_number(item)
                    if page is not None and page >= 0:
                        pages.append((_normal(str(item.title)), page + 1))

        walk(reader.outline)
        return pages


def assign_pages(headings: list[Heading], pages: list[tuple[str, int]]) -> bool:
    """Give each heading the page of the next outline entry with its text; True if all found."""
    pos = 0
    found_all = True
    for heading in headings:
        want = _normal(heading.text)
        for k in range(pos, len(pages)):
            title = pages[k][0]
            if title == want or title.endswith(" " + want) or title == _normal(heading.entry):
                heading.page = pages[k][1]
                pos = k + 1
                break
        else:
            found_all = False
    return found_all


def request_field_update(doc) -> None:
    """Ask Word to update every field (TOC page numbers) when the file is opened."""
    settings = doc.settings.element
    for old in settings.findall(qn("w:updateFields")):
        settings.remove(old)
    update = el("w:updateFields", **{"w:val": "true"})
    # schema order (CT_Settings): updateFields follows characterSpacingControl and the
    # spacing settings and precedes hdrShapeDefaults, footnotePr, ..., compat, rsids, ...
    later = ("hdrShapeDefaults", "footnotePr", "endnotePr", "compat", "docVars", "rsids",
             "mathPr", "attachedSchema", "themeFontLang", "clrSchemeMapping",
             "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade",
             "captions", "readModeInkLockDown", "smartTagType", "schemaLibrary",
             "shapeDefaults", "doNotEmbedSmartTags", "decimalSymbol", "listSeparator")
    anchor = next((c for c in settings if c.tag in {qn(f"w:{t}") for t in later}), None)
    if anchor is not None:
        anchor.addprevious(update)
    else:
        settings.append(update)
