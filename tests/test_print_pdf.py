"""Print-grade PDF and HTML: vector figures, the synthetic-data notice on every page, one minus
sign, no ICH number alone on a line, document properties and reproducible dates."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from print_helpers import build, chapter
from pypdf import PdfReader

from trialreport.figures.save import display_figure
from trialreport.figures.style import new_figure, style_context

FILLER = "\n\n".join(f"Paragraph {i} of filler text that makes the book run over pages. " * 6
                     for i in range(40))
BOOK = (chapter("a.qmd") + "# Efficacy {#sec-eff}\n\nThe difference was -2.3 (-35.7, 31.0); "
        "dates like 2012-03-05 and codes like ALEVIATE-001 keep their hyphen.\n\n"
        "::: {#fig-km}\n![](media/fig.png){width=2in tr-svg=\"media/fig.svg\"}\n\n"
        "Kaplan-Meier estimate of time to first relapse among six-month responders, by dose "
        "(Figure 14.2.1)\n:::\n\n" + FILLER + "\n")
META = {"trialreport": {"sponsor": "Acme \"Pharma\" #1", "study": "STUDYX",
                        "synthetic-notice": "Synthetic data: no record is a real patient"}}


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out, warnings = build(tmp_path_factory.mktemp("pdf"), BOOK, "pdf", META)
    assert not [w for w in warnings if "WARNING" in w or "error" in w.lower()], warnings
    return out


def test_figures_are_vector_in_the_pdf(pdf: Path) -> None:
    data = pdf.read_bytes()
    assert re.search(rb"/Subtype\s*/Image", data) is None  # no raster image anywhere
    typ = pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert 'image("media/fig.svg"' in typ or "fig.svg" in typ


def test_figures_are_vector_in_html(tmp_path: Path) -> None:
    html, _ = build(tmp_path, BOOK, "html", META)
    text = html.read_text(encoding="utf-8")
    assert "data:image/svg+xml;base64," in text and "data:image/png" not in text


def test_word_keeps_the_png(tmp_path: Path) -> None:
    import zipfile

    word, _ = build(tmp_path, BOOK, "docx", META)
    with zipfile.ZipFile(word) as z:
        media = [n for n in z.namelist() if n.startswith("word/media/")]
    assert media and all(n.endswith(".png") for n in media)


def test_synthetic_notice_on_every_page(pdf: Path) -> None:
    pages = PdfReader(pdf).pages
    assert len(pages) >= 3
    for number, page in enumerate(pages, 1):
        assert "Synthetic data: no record is a real patient" in page.extract_text(), number


def test_one_minus_sign_and_label_kept_with_its_number(pdf: Path) -> None:
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "\u22122.3 (\u221235.7, 31.0)" in text
    assert "2012-03-05" in text and "ALEVIATE-001" in text
    typ = pdf.with_suffix(".typ").read_text(encoding="utf-8")
    assert "(Figure~14.2.1)" in re.sub(r"\s+", " ", typ)  # typst's no-break space
    assert "Figure~1.1:" in typ


def test_pdf_properties_are_strings_from_the_study(pdf: Path) -> None:
    info = PdfReader(pdf).metadata
    assert info.author == 'Acme "Pharma" #1'  # a typst string, quotes and hash kept as text
    assert info.title == "Study X Clinical Study Report"


def test_source_date_epoch_sets_pdf_dates(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, _ = build(tmp_path / "a", BOOK, "pdf", META)
    second, _ = build(tmp_path / "b", BOOK, "pdf", META)
    assert first.read_bytes() == second.read_bytes()
    info = PdfReader(first).metadata
    assert info["/CreationDate"].startswith("D:20231114221320")
    assert b"2023-11-14T22:13:20" in first.read_bytes()  # XMP packet


def test_display_figure_has_svg_and_png_and_is_deterministic() -> None:
    def make():
        with style_context():
            fig = new_figure(3, 2)
            ax = fig.add_subplot()
            ax.plot([0, 1, 2], [1, 0.5, 0.25])
            ax.set_title("Costs in $ and $ (not math)")
        return display_figure(fig)

    first, second = make(), make()
    assert first._repr_png_().startswith(b"\x89PNG")
    svg = first._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert first.png == second.png and first.svg == second.svg
