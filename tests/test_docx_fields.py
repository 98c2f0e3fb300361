"""Word as a living document: SEQ captions, REF cross-references to bookmarks that exist,
heading numbers from list numbering, a filled TOC field, document properties, fixed zip times."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from print_helpers import build, chapter

from trialreport.render.docx_fields import soffice_path

BOOK = (
    chapter("a.qmd") + "# Introduction {#sec-intro}\n\nSee @tbl-one, [-@tbl-one], @fig-one, "
    "@sec-detail and @sec-app.\n\n## Detail {#sec-detail}\n\nText.\n\n"
    "| Arm | N |\n|:--|--:|\n| A | -3 |\n\n: First table {#tbl-one}\n\n"
    + chapter("b.qmd") + "# Results\n\n## Unnumbered {.unnumbered}\n\n"
    "::: {#fig-one}\n![](media/fig.png){width=2in tr-svg=\"media/fig.svg\"}\n\n"
    "A figure (Figure 14.2.1)\n:::\n\n"
    "| Arm | N |\n|:--|--:|\n| B | 4 |\n\n: Second table {#tbl-two}\n\n"
    + chapter("c.qmd", appendix=True) + "# Appendix stuff {#sec-app}\n\n## More\n\nText.\n"
)
META = {"subtitle": "Drug vs placebo", "author": ["Report version 1.0 · git abc"],
        "trialreport": {"study": "STUDYX", "registration": "NCT0000", "sponsor": "Acme Pharma",
                        "synthetic-notice": "Synthetic data"}}


@pytest.fixture(scope="module")
def word(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, warnings = build(tmp_path_factory.mktemp("docx"), BOOK, "docx", META)
    assert not [w for w in warnings if "WARNING" in w], warnings
    return out


def _xml(path: Path, name: str) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(name).decode("utf-8")


def test_captions_are_seq_fields_with_their_numbers(word: Path) -> None:
    xml = _xml(word, "word/document.xml")
    # first caption of each kind in a chapter restarts at 1 (\r 1, for LibreOffice too)
    assert xml.count("SEQ Table \\r 1 \\* ARABIC \\s 1") == 2
    assert xml.count("SEQ Figure \\r 1 \\* ARABIC \\s 1") == 1
    assert xml.count("STYLEREF 1 \\s") == 3
    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    # each field carries its result: the document reads right before any update
    assert "Table\u00a01.1: First table" in text and "Table\u00a02.1: Second table" in text
    assert "Figure\u00a02.1: A figure (Figure\u00a014.2.1)" in text


def test_cross_references_are_ref_fields_to_existing_bookmarks(word: Path) -> None:
    xml = _xml(word, "word/document.xml")
    targets = re.findall(r"(?<!PAGE)REF (\S+) (?:\\[a-z] )*\\h", xml)
    assert len(targets) == 5
    bookmarks = set(re.findall(r'<w:bookmarkStart [^>]*w:name="([^"]+)"', xml))
    assert set(targets) <= bookmarks
    assert all(len(name) <= 40 and re.fullmatch(r"_?\w+", name) for name in targets)
    text = "\n".join(p.text for p in docx.Document(str(word)).paragraphs)
    assert ("See Table\u00a01.1, 1.1, Figure\u00a02.1, Section\u00a01.1 and Appendix\u00a0A."
            in text)
    ids = re.findall(r'<w:bookmarkStart w:id="(\d+)"', xml)
    assert len(ids) == len(set(ids))


def test_headings_numbered_by_word_list_numbering(word: Path) -> None:
    doc = docx.Document(str(word))
    numbering = doc.part.numbering_part.element
    formats = {a.get(qn("w:abstractNumId")): [f.get(qn("w:val")) for f in
                                              a.iter(qn("w:numFmt"))]
               for a in numbering.findall(qn("w:abstractNum"))}
    assert ["decimal", "decimal", "decimal"] in formats.values()
    assert ["upperLetter", "decimal", "decimal"] in formats.values()
    heading1 = doc.styles["Heading 1"].element.pPr.numPr
    assert heading1 is not None and heading1.ilvl.val == 0
    headings = [p for p in doc.paragraphs if p.style.name.startswith("Heading")]
    texts = [p.text for p in headings]
    assert texts[:2] == ["Introduction", "Detail"]  # no typed numbers
    unnumbered = next(p for p in headings if p.text == "Unnumbered")
    assert unnumbered._p.pPr.numPr.numId.val == 0
    appendix = next(p for p in headings if p.text == "Appendix stuff")
    assert appendix._p.pPr.numPr.numId.val != heading1.numId.val
    assert "_TrNum_" not in _xml(word, "word/document.xml")


def test_libreoffice_reads_the_chapter_numbers(word: Path, tmp_path: Path) -> None:
    """LibreOffice recomputes SEQ fields on opening; the numbers must stay per chapter."""
    if soffice_path() is None:
        pytest.skip("LibreOffice is not installed")
    import subprocess

    subprocess.run([soffice_path(), f"-env:UserInstallation={(tmp_path / 'p').as_uri()}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path), str(word)],
                   check=True, capture_output=True, timeout=180)
    from pypdf import PdfReader

    text = " ".join(p.extract_text() for p in PdfReader(tmp_path / "book.pdf").pages)
    text = text.replace("\u00a0", " ")
    assert "Table 1.1: First table" in text and "Table 2.1: Second table" in text
    assert "Figure 2.1: A figure" in text
    # references recomputed as Word would: the appendix's list number carries its word
    assert "Section 1.1 and Appendix A." in text and "Appendix Appendix" not in text


def test_table_of_contents_field_with_entries(word: Path) -> None:
    xml = _xml(word, "word/document.xml")
    assert re.search(r"TOC \\o &quot;1-2&quot;|TOC \\o \"1-2\"", xml)
    entries = re.findall(r"PAGEREF (\S+) \\h </w:instrText></w:r><w:r><w:fldChar "
                         r'w:fldCharType="separate"/></w:r><w:r><w:t xml:space="preserve">'
                         r"(\d*)<", xml)
    assert len(entries) == 6  # 3 chapters, 3 sections (one unnumbered), depth 2
    doc = docx.Document(str(word))
    toc = ["".join(t.text or "" for t in p.iter(qn("w:t")))
           for p in doc.element.body.iter(qn("w:p"))
           if p.pPr is not None and p.pPr.pStyle is not None
           and p.pPr.pStyle.val.startswith("TOC") and p.pPr.pStyle.val != "TOCHeading"]
    assert toc[0].startswith("1 Introduction") and toc[1].startswith("1.1 Detail")
    assert toc[-2].startswith("Appendix A Appendix stuff") and toc[-1].startswith("A.1 More")
    settings = _xml(word, "word/settings.xml")
    if soffice_path():
        assert all(page.isdigit() for _, page in entries)  # page numbers as delivered
        assert "updateFields" not in settings
    else:
        assert '<w:updateFields w:val="true"/>' in settings


def test_core_properties_from_the_study_not_the_stamp(word: Path) -> None:
    props = docx.Document(str(word)).core_properties
    assert props.title == "Study X Clinical Study Report"
    assert props.subject == "Drug vs placebo"
    assert props.author == "Acme Pharma"
    assert "version" not in props.author.lower()
    assert "STUDYX" in props.keywords
    assert "<Company>Acme Pharma</Company>" in _xml(word, "docProps/app.xml")


def test_running_header_carries_the_synthetic_notice(word: Path) -> None:
    doc = docx.Document(str(word))
    headers = [p.text for s in doc.sections for p in s.header.paragraphs]
    assert any("Synthetic data" in h for h in headers)


def test_inline_code_in_tables_takes_the_table_size(word: Path) -> None:
    styles = _xml(word, "word/styles.xml")
    verbatim = re.search(r'w:styleId="VerbatimChar".*?</w:style>', styles, flags=re.S).group(0)
    assert "<w:sz " not in verbatim


def test_zip_entries_have_fixed_times(word: Path) -> None:
    with zipfile.ZipFile(word) as z:
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_source_date_epoch_sets_times(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14T22:13:20Z
    first, _ = build(tmp_path / "a", BOOK, "docx", META)
    second, _ = build(tmp_path / "b", BOOK, "docx", META)
    assert first.read_bytes() == second.read_bytes()
    props = docx.Document(str(first)).core_properties
    assert props.created.isoformat().startswith("2023-11-14T22:13:20")
    with zipfile.ZipFile(first) as z:
        assert {info.date_time for info in z.infolist()} == {(2023, 11, 14, 22, 13, 20)}


def test_wide_table_gets_a_landscape_section(tmp_path: Path) -> None:
    columns = [f"Column{i}-with-a-long-unbreakable-name" for i in range(6)]
    table = ("| " + " | ".join(columns) + " |\n|" + "---|" * 6 + "\n| "
             + " | ".join("1" for _ in columns) + " |\n\n: Wide {#tbl-wide}\n\n")
    narrow = "| A | B |\n|--|--|\n| 1 | 2 |\n\n: Narrow {#tbl-narrow}\n"
    out, _ = build(tmp_path, chapter("a.qmd") + "# Wide\n\n" + table + narrow, "docx", META)
    doc = docx.Document(str(out))
    orientations = [s.orientation for s in doc.sections]
    from docx.enum.section import WD_ORIENT

    assert WD_ORIENT.LANDSCAPE in orientations and orientations[-1] == WD_ORIENT.PORTRAIT
    landscape = next(s for s in doc.sections if s.orientation == WD_ORIENT.LANDSCAPE)
    assert landscape.page_width > landscape.page_height
    pdf, _ = build(tmp_path, chapter("a.qmd") + "# Wide\n\n" + table + narrow, "pdf", META)
    typ = pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert typ.count("#page(flipped: true)[") == 1
