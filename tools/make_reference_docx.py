"""Generate ``src/trialreport/resources/render/reference.docx`` (the Word style sheet).

Starts from pandoc's own default reference document, so every style pandoc uses exists,
and restyles it for a clinical study report:

* A4 portrait, 2.5 cm top / 2.2 cm other margins; running header (the placeholder
  ``[running-header]`` is replaced at render time) and "Page X of Y" footer.
* Body text Arial 10 pt, black headings, chapter headings start on a new page.
* Tables (pandoc's "Table" style): 9 pt text ("Table Text"), rules above and below the
  table and under the header row, no vertical lines; "Table Caption" bold above the table,
  "Table Note" 8 pt below it.

Run:  python tools/make_reference_docx.py  [output path]
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pypandoc
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from trialreport.render.ooxml import border, el

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "src" / "trialreport" / "resources" / "render" / "reference.docx"
FONT = "Arial"
PLACEHOLDER = "[running-header]"


def _set_child(parent, tag: str, **attrs: str):
    """Replace (or create) the single child ``tag`` of ``parent`` with the given attributes."""
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    child = el(tag, **attrs)
    parent.append(child)
    return child


def _border_xml(parent, tag: str, sides: dict[str, str | None]) -> None:
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    borders = el(tag)
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        if side not in sides:
            continue
        borders.append(border(side, sides[side]))
    parent.append(borders)


def _font(style, size: float | None = None, bold: bool | None = None, italic: bool | None = False):
    style.font.name = FONT
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = el("w:rFonts")
        rpr.insert(0, fonts)
    for attr in list(fonts.attrib):
        del fonts.attrib[attr]
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), FONT)
    if size is not None:
        style.font.size = Pt(size)
    if bold is not None:
        style.font.bold = bold
    if italic is not None:
        style.font.italic = italic
    style.font.color.rgb = RGBColor(0, 0, 0)


def _spacing(style, before: float, after: float, keep_next: bool = False) -> None:
    fmt = style.paragraph_format
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.0
    fmt.keep_with_next = keep_next


def _paragraph_style(doc, name: str, base: str = "Normal"):
    try:
        return doc.styles[name]
    except KeyError:
        style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        style.base_style = doc.styles[base]
        style.quick_style = True
        return style


def _by_name(doc, name: str):
    for style in doc.styles:
        if style.name and style.name.lower() == name.lower():
            return style
    raise KeyError(name)


def _field(paragraph, instr: str, placeholder: str = "1") -> None:
    run = paragraph.add_run()
    run._r.append(el("w:fldChar", **{"w:fldCharType": "begin"}))
    run = paragraph.add_run()
    text = el("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instr} "
    run._r.append(text)
    run = paragraph.add_run()
    run._r.append(el("w:fldChar", **{"w:fldCharType": "separate"}))
    paragraph.add_run(placeholder)
    run = paragraph.add_run()
    run._r.append(el("w:fldChar", **{"w:fldCharType": "end"}))


def _doc_defaults(doc) -> None:
    styles = doc.styles.element
    rpr = styles.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    _set_child(rpr, "w:rFonts", **{f"w:{k}": FONT for k in ("ascii", "hAnsi", "cs", "eastAsia")})
    rpr.insert(0, rpr.findall(qn("w:rFonts"))[-1])
    for tag in ("w:sz", "w:szCs"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
        rpr.append(el(tag, **{"w:val": "20"}))
    ppr = styles.find(qn("w:docDefaults")).find(qn("w:pPrDefault")).find(qn("w:pPr"))
    _set_child(ppr, "w:spacing", **{"w:after": "120", "w:line": "252", "w:lineRule": "auto"})


def _table_style(doc) -> None:
    style = doc.styles["Table"].element
    tblpr = style.find(qn("w:tblPr"))
    _border_xml(
        tblpr,
        "w:tblBorders",
        {"top": "8", "left": None, "bottom": "8", "right": None, "insideH": None, "insideV": None},
    )
    mar = tblpr.find(qn("w:tblCellMar"))
    for side, width in (("top", "20"), ("left", "70"), ("bottom", "20"), ("right", "70")):
        mar.find(qn(f"w:{side}")).set(qn("w:w"), width)
    rpr = style.find(qn("w:rPr"))
    if rpr is None:
        rpr = el("w:rPr")
        style.insert(list(style).index(tblpr), rpr)
    for tag in ("w:sz", "w:szCs"):
        _set_child(rpr, tag, **{"w:val": "18"})
    first = style.find(qn("w:tblStylePr"))
    tcpr = first.find(qn("w:tcPr"))
    _border_xml(tcpr, "w:tcBorders", {"bottom": "6"})
    tcpr.insert(0, tcpr.findall(qn("w:tcBorders"))[-1])
    frpr = first.find(qn("w:rPr"))
    if frpr is None:
        frpr = el("w:rPr")
        first.insert(list(first).index(tcpr), frpr)
    _set_child(frpr, "w:b")


def _toc_styles(doc) -> None:
    """Word's built-in "toc 1..3" styles (used when trialreport pre-fills the TOC)."""
    styles = doc.styles.element
    for level in (1, 2, 3):
        for old in styles.findall(qn("w:style")):
            if old.get(qn("w:styleId")) == f"TOC{level}":
                styles.remove(old)
        style = el("w:style", **{"w:type": "paragraph", "w:styleId": f"TOC{level}"})
        style.append(el("w:name", **{"w:val": f"toc {level}"}))
        style.append(el("w:basedOn", **{"w:val": "Normal"}))
        style.append(el("w:next", **{"w:val": "Normal"}))
        style.append(el("w:uiPriority", **{"w:val": "39"}))
        style.append(el("w:unhideWhenUsed"))
        ppr = el("w:pPr")
        tabs = el("w:tabs")
        tabs.append(el("w:tab", **{"w:val": "right", "w:leader": "dot", "w:pos": "9400"}))
        ppr.append(tabs)
        before = "120" if level == 1 else "20"
        ppr.append(el("w:spacing", **{"w:before": before, "w:after": "20"}))
        ppr.append(el("w:ind", **{"w:left": str(220 * (level - 1))}))
        style.append(ppr)
        rpr = el("w:rPr")
        if level == 1:
            rpr.append(el("w:b"))
        style.append(rpr)
        styles.append(style)


def _styles(doc) -> None:
    _doc_defaults(doc)
    for name in ("Normal", "Body Text", "First Paragraph", "Compact", "Block Text"):
        _font(doc.styles[name])
    _spacing(doc.styles["Body Text"], 3, 6)
    _spacing(doc.styles["First Paragraph"], 3, 6)
    _spacing(doc.styles["Compact"], 0, 2)
    for level, (size, before, after) in {
        1: (14, 0, 12),
        2: (12, 12, 6),
        3: (11, 10, 4),
        4: (10, 8, 4),
        5: (10, 6, 3),
    }.items():
        style = doc.styles[f"Heading {level}"]
        _font(style, size, bold=True, italic=level >= 4)
        _spacing(style, before, after, keep_next=True)
        style.paragraph_format.keep_together = True
    # chapters follow on (a page break per chapter left pages mostly empty); keep-with-next
    # still keeps every heading with its first lines
    doc.styles["Heading 1"].paragraph_format.page_break_before = False
    doc.styles["Heading 1"].paragraph_format.space_before = Pt(18)
    for name, size, bold, before, after in (
        ("Title", 20, True, 140, 12),
        ("Subtitle", 14, False, 6, 24),
        ("Author", 11, False, 6, 3),
        ("Date", 11, False, 3, 3),
    ):
        style = doc.styles[name]
        _font(style, size, bold=bold)
        _spacing(style, before, after)
        style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(doc.styles["TOC Heading"], 14, bold=True)
    _font(_by_name(doc, "caption"), 10, bold=True, italic=False)
    table_caption = doc.styles["Table Caption"]
    _font(table_caption, 10, bold=True, italic=False)
    _spacing(table_caption, 12, 4, keep_next=True)
    image_caption = doc.styles["Image Caption"]
    _font(image_caption, 10, bold=True, italic=False)
    _spacing(image_caption, 4, 12)
    image_caption.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for name in ("Figure", "Captioned Figure"):
        if name in [s.name for s in doc.styles]:
            _spacing(doc.styles[name], 12, 0, keep_next=True)
            doc.styles[name].paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for name, size, bold, before, after, keep in (
        ("Table Title", 9, True, 0, 3, True),
        ("Table Subtitle", 9, False, 0, 4, True),
        ("Table Note", 8, False, 0, 0, False),
        ("Table Text", 9, False, 0, 0, False),
    ):
        style = _paragraph_style(doc, name)
        _font(style, size, bold=bold)
        _spacing(style, before, after, keep_next=keep)
    doc.styles["Table Note"].paragraph_format.space_before = Pt(2)
    code = _paragraph_style(doc, "Source Code")
    _font(code, 8.5, bold=False)
    code.font.name = "Courier New"
    fonts = code.element.get_or_add_rPr().find(qn("w:rFonts"))
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), "Courier New")
    _spacing(code, 4, 6)
    # inline code takes the size of the paragraph it is in (9 pt in tables, 10 pt in text):
    # a character style with its own size would make code in a 9 pt table 11 pt
    verbatim = _by_name(doc, "Verbatim Char")
    rpr = verbatim.element.get_or_add_rPr()
    for tag in ("w:sz", "w:szCs"):
        for old in rpr.findall(qn(tag)):
            rpr.remove(old)
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = el("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:cs", "w:eastAsia"):
        fonts.set(qn(attr), "Courier New")
    hyperlink = doc.styles["Hyperlink"]
    hyperlink.font.color.rgb = RGBColor(0x1A, 0x4F, 0x8B)
    _table_style(doc)
    _toc_styles(doc)


def _page(doc) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width = Cm(21.0)
    section.page_height = Cm(29.7)
    section.top_margin = Cm(2.5)
    section.bottom_margin = Cm(2.2)
    section.left_margin = Cm(2.2)
    section.right_margin = Cm(2.2)
    section.header_distance = Cm(1.0)
    section.footer_distance = Cm(1.0)
    header = section.header
    header.is_linked_to_previous = False
    para = header.paragraphs[0]
    para.text = PLACEHOLDER
    para.style = doc.styles["Header"] if "Header" in [s.name for s in doc.styles] else para.style
    _font_runs(para, 8)
    ppr = para._p.get_or_add_pPr()
    _border_xml(ppr, "w:pBdr", {"bottom": "4"})
    footer = section.footer
    footer.is_linked_to_previous = False
    para = footer.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.add_run("Page ")
    _field(para, "PAGE")
    para.add_run(" of ")
    _field(para, "NUMPAGES")
    _font_runs(para, 8)
    para.paragraph_format.tab_stops.add_tab_stop(Cm(16.6), WD_TAB_ALIGNMENT.RIGHT)


def _font_runs(paragraph, size: float) -> None:
    for run in paragraph.runs:
        run.font.size = Pt(size)
        run.font.name = FONT


def build(out: Path) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "default.docx"
        subprocess.run(
            [
                pypandoc.get_pandoc_path(),
                "-o",
                str(base),
                "--print-default-data-file",
                "reference.docx",
            ],
            check=True,
        )
        doc = Document(str(base))
        _styles(doc)
        _page(doc)
        # the sample body text of pandoc's reference doc is irrelevant to pandoc; keep it short
        body = doc.element.body
        for child in list(body):
            if child.tag != qn("w:sectPr"):
                body.remove(child)
        doc.add_paragraph("trialreport reference document")
        out.parent.mkdir(parents=True, exist_ok=True)
        doc.save(str(out))
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    print(build(target))
