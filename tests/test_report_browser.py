"""The rendered HTML report in a real browser (headless Chromium over CDP).

The report under test is the one the session renders once (conftest.rendered_report), never a
file left in report/.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from conftest import ROOT
from trialreport.browsercheck import BrowserReport, check_html, find_chromium
from trialreport.versioning import report_stem

TIMEOUT = 120.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(find_chromium() is None,
                       reason="chromium is not installed (CI installs it via .ci/run; "
                              "or set TRIALREPORT_CHROMIUM)"),
]


@pytest.fixture(scope="module")
def report_html(rendered_report: Path) -> Path:
    """The HTML of the book rendered once for this test session (conftest.rendered_report)."""
    return rendered_report / f"{report_stem(ROOT)}.html"


@pytest.fixture(scope="module")
def checked(report_html: Path, tmp_path_factory: pytest.TempPathFactory) -> BrowserReport:
    shots = tmp_path_factory.mktemp("screenshots")
    return check_html(report_html, shots / "page.png", timeout=TIMEOUT)


def _assert_real_png(path: Path, min_bytes: int = 5_000) -> None:
    assert path.is_file(), path
    assert path.stat().st_size > min_bytes, f"{path.name}: only {path.stat().st_size} bytes"
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width > 50 and image.height > 50, (path.name, image.size)
        colours = image.convert("RGB").getcolors(maxcolors=64)
    # getcolors returns None when there are more than maxcolors distinct colours.
    assert colours is None or len(colours) > 8, f"{path.name}: {len(colours)} colours only"


# --- the rendered report ------------------------------------------------------------------------


def test_report_has_no_console_errors(checked: BrowserReport) -> None:
    assert checked.console_errors == []


def test_report_table_of_contents_links_resolve(checked: BrowserReport) -> None:
    assert checked.toc_links > 10
    assert checked.broken_toc_links == []
    assert checked.toc_jump_failures == []  # a real click scrolls its target to the top


def test_report_consort_figure_is_visible(checked: BrowserReport) -> None:
    assert checked.consort_visible
    _assert_real_png(checked.screenshots["consort"])


def test_report_table_14_2_1_is_visible(checked: BrowserReport) -> None:
    assert checked.table_14_2_1_visible
    _assert_real_png(checked.screenshots["table-14-2-1"])


def test_report_page_screenshot_and_verdict(checked: BrowserReport) -> None:
    _assert_real_png(checked.screenshots["page"])
    assert checked.ok, checked.summary()


# --- the checker itself, on hand-written pages ----------------------------------------------------


def _png_data_uri() -> str:
    image = Image.linear_gradient("L").resize((320, 200)).convert("RGB")  # many colours
    draw = ImageDraw.Draw(image)
    for i, colour in enumerate(("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")):
        draw.rectangle((20 + 60 * i, 30, 60 + 60 * i, 170), fill=colour, outline="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _page(tmp_path: Path, *, toc: str, head: str = "", extra: str = "",
          img_style: str = "", table_style: str = "") -> Path:
    filler = "<p>Filler paragraph.</p>" * 60
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>t</title>{head}</head><body>
<nav id="TOC" role="doc-toc"><h2>Contents</h2><ul>{toc}</ul></nav>
<section id="sec-a"><h1>A</h1>{filler}
<figure id="fig-consort"><p><img src="{_png_data_uri()}" alt="CONSORT" style="{img_style}"></p>
<figcaption>Figure 1</figcaption></figure>
<div id="tbl-efficacy" style="{table_style}"><table>
<thead><tr><th colspan="3">Table 14.2.1 Response at month 6</th></tr></thead>
<tbody><tr><td>n/N (%)</td><td>3/12 (25%)</td><td>3/11 (27%)</td></tr></tbody></table></div>
</section>
<section id="sec-b"><h1>B</h1>{filler}</section>
<section id="sec-c"><h1>C</h1>{filler}{extra}</section>
</body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return path


@pytest.mark.parametrize("transport", ["websockets", "stdlib"])
def test_checker_passes_a_clean_page(tmp_path: Path, transport: str) -> None:
    if transport == "websockets":
        pytest.importorskip("websockets.sync.client")
    toc = "".join(f'<li><a href="#sec-{s}">{s.upper()}</a></li>' for s in "abc")
    page = _page(tmp_path, toc=toc)
    report = check_html(page, tmp_path / "shots" / "page.png", timeout=TIMEOUT,
                        transport=transport)
    assert report.ok, report.summary()
    assert (report.console_errors, report.broken_toc_links, report.toc_links) == ([], [], 3)
    assert report.consort_visible and report.table_14_2_1_visible
    assert set(report.screenshots) == {"page", "consort", "table-14-2-1"}
    for path in report.screenshots.values():
        _assert_real_png(path, min_bytes=500)


def test_checker_reports_errors_broken_links_and_hidden_content(tmp_path: Path) -> None:
    toc = ('<li><a href="#sec-a">A</a></li>'
           '<li><a href="#sec-b" onclick="event.preventDefault()">B (click swallowed)</a></li>'
           '<li><a href="#nowhere">Gone</a></li>')
    page = _page(
        tmp_path, toc=toc,
        head='<script>console.error("deliberate failure", 42);</script>',
        extra=('<img src="missing-figure.png" alt="x"><a href="#no-such-table">Table 9</a>'
               '<script>throw new Error("boom from the page");</script>'),
        img_style="display: none", table_style="visibility: hidden")
    report = check_html(page, timeout=TIMEOUT)
    errors = "\n".join(report.console_errors)
    assert "console.error: deliberate failure 42" in errors
    assert "boom from the page" in errors
    assert "missing-figure.png" in errors
    assert report.toc_links == 3
    assert report.broken_toc_links == ["#nowhere"]
    assert len(report.toc_jump_failures) == 1 and "#sec-b" in report.toc_jump_failures[0]
    assert any("#no-such-table" in text for text in report.warnings)
    assert not report.consort_visible
    assert not report.table_14_2_1_visible
    assert report.screenshots == {}
    assert not report.ok
    assert "FAILED" in report.summary()


def test_checker_without_a_table_of_contents(tmp_path: Path) -> None:
    page = _page(tmp_path, toc="")
    page.write_text(page.read_text(encoding="utf-8").replace('id="TOC"', 'id="contents"'),
                    encoding="utf-8")
    report = check_html(page, timeout=TIMEOUT)
    assert report.toc_links == 0 and not report.ok
    assert "no table of contents" in report.broken_toc_links[0]


def test_cli_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from trialreport.browsercheck import main

    toc = '<li><a href="#sec-a">A</a></li><li><a href="#nowhere">Gone</a></li>'
    page = _page(tmp_path, toc=toc)
    assert main([str(page), "--screenshots", str(tmp_path / "shots"),
                 "--timeout", str(TIMEOUT)]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "broken: #nowhere" in out
    assert (tmp_path / "shots" / "page-consort.png").is_file()
    assert main([str(tmp_path / "absent.html")]) == 2
