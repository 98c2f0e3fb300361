"""The rendered HTML report in a real browser (playwright driving Debian's chromium).

The report under test is the session's one render of a temporary copy of the project
(conftest.rendered_project); what it must show comes from that copy's study definition: every
figure and every numbered table and listing of ``outputs:``. The checker itself is tested on
hand-written pages first, so that a passing report means something.

Without chromium (or playwright) these tests are skipped with the reason; ``make test`` sets
TRIALREPORT_REQUIRE_BROWSER=1, which turns the skip into a failure (conftest).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import browser_check
import pytest
from browser_check import (
    Expected,
    Findings,
    browser_unavailable,
    check_page,
    expected_from_study,
    launch,
)

from conftest import STUDY_FILE, synthetic_study
from trialreport import load_study
from trialreport.paths import study_file
from trialreport.versioning import report_stem

_UNAVAILABLE = browser_unavailable()
# skipped before any fixture (so before the session's render) is set up
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(_UNAVAILABLE is not None, reason=str(_UNAVAILABLE))]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with launch() as chromium:
        yield chromium


def _explain(findings: Findings, problems: list[str]) -> str:
    return f"{findings.url}:\n  " + "\n  ".join(problems)


# --- the checker, on hand-written pages -----------------------------------------------------------

_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200">'
        '<rect x="10" y="10" width="300" height="180" fill="#1f77b4"/></svg>')
_IMAGE = "data:image/svg+xml;base64," + base64.b64encode(_SVG.encode()).decode("ascii")
_FILLER = "<p>Filler paragraph.</p>" * 60
_EXPECTED = Expected(figures=("Figure 14.1.1",), captions=("Table 14.2.1", "Listing 16.2.7"))


def _page(tmp_path: Path, *, toc: str, head: str = "", extra: str = "", img: str = "",
          table_caption: str = "", listing_caption: str = "") -> Path:
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>t</title>{head}</head><body>
<nav id="TOC" role="doc-toc"><h2>Contents</h2><ul>{toc}</ul></nav>
<section id="sec-a"><h1>A</h1>{_FILLER}
<figure id="fig-a"><p><img src="{_IMAGE}" alt="a figure" {img}></p>
<figcaption>Figure 1.1: Flow (Figure 14.1.1)</figcaption></figure>
<div id="tbl-a"><div class="tr-table-caption" {table_caption}>
<p>Table 1.1: Response (Table&nbsp;14.2.1)</p></div>
<table><tbody><tr><td>n/N (%)</td><td>3/12 (25%)</td></tr></tbody></table></div>
</section>
<section id="sec-b"><h1>B</h1>{_FILLER}
<table><caption {listing_caption}>Listing 16.2.7 Serious adverse events</caption>
<tbody><tr><td>001</td></tr></tbody></table></section>
<section id="sec-c"><h1>C</h1>{_FILLER}{extra}</section>
</body></html>"""
    path = tmp_path / "page.html"
    path.write_text(html, encoding="utf-8")
    return path


def _toc(*ids: str) -> str:
    return "".join(f'<li><a href="#{i}">{i}</a></li>' for i in ids)


def test_checker_passes_a_clean_page(browser: Any, tmp_path: Path) -> None:
    page = _page(tmp_path, toc=_toc("sec-a", "sec-b", "sec-c"))
    findings = check_page(browser, page, _EXPECTED, tmp_path / "shots")
    assert findings.problems() == [], _explain(findings, findings.problems())
    assert (findings.toc_links, findings.figures_checked, findings.captions_checked) == (3, 1, 2)
    assert findings.screenshots == []


def test_checker_reports_every_kind_of_problem(browser: Any, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_check, "CLICK_TIMEOUT_MS", 300)
    toc = _toc("sec-a", "nowhere") + (
        '<li><a href="#sec-b" onclick="event.preventDefault()">B (click swallowed)</a></li>'
        '<li><a href="#sec-c" style="display: none">C (hidden link)</a></li>')
    page = _page(
        tmp_path, toc=toc,
        head='<script>console.error("deliberate failure", 42);</script>',
        extra=('<img src="missing-figure.png" alt="x">'
               '<script>throw new Error("boom from the page");</script>'),
        img='style="visibility: hidden"', table_caption='style="display: none"')
    # an opaque box pulled up over the listing's caption
    page.write_text(page.read_text(encoding="utf-8").replace(
        "<tbody><tr><td>001</td></tr></tbody></table>",
        "<tbody><tr><td>001</td></tr></tbody></table><div style='position: relative; "
        "margin-top: -200px; height: 260px; background: white'></div>"), encoding="utf-8")
    shots = tmp_path / "shots"
    findings = check_page(browser, page, _EXPECTED, shots)

    errors = "\n".join(findings.console_errors)
    assert "console.error: deliberate failure 42" in errors
    assert "uncaught exception: " in errors and "boom from the page" in errors
    assert any("missing-figure.png" in text for text in findings.failed_loads), findings
    assert findings.toc_links == 4
    assert findings.broken_toc_links == ["TOC link '#nowhere' names no element of the page"]
    assert len(findings.toc_click_failures) == 2
    assert findings.toc_click_failures[0].startswith("TOC link #sec-b: the click left")
    assert findings.toc_click_failures[1].startswith("TOC link #sec-c: cannot be clicked")
    assert [p.split(":")[0] for p in findings.figure_problems] == ["Figure 14.1.1"]
    assert "hidden by CSS" in findings.figure_problems[0]
    assert [p.split(":")[0] for p in findings.caption_problems] == ["Table 14.2.1",
                                                                  "Listing 16.2.7"]
    assert "hidden by CSS" in findings.caption_problems[0]
    assert "covered by <div>" in findings.caption_problems[1]
    # every failure names its screenshot, and the screenshot is a real PNG in the tmp folder
    for problem in [*findings.toc_click_failures, *findings.figure_problems,
                    *findings.caption_problems]:
        assert f"(screenshot {shots}" in problem, problem
    assert findings.screenshots and all(p.parent == shots for p in findings.screenshots)
    for path in findings.screenshots:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path


def test_checker_finds_undecoded_missing_and_unlabelled_outputs(browser: Any,
                                                                tmp_path: Path) -> None:
    page = _page(tmp_path, toc=_toc("sec-a"))
    text = page.read_text(encoding="utf-8")
    text = text.replace(_IMAGE, "data:image/png;base64,bm90IGEgcG5n")  # "not a png"
    text = text.replace("Listing 16.2.7", "Listing 16.2.70")  # a different number
    page.write_text(text, encoding="utf-8")
    findings = check_page(browser, page, _EXPECTED, tmp_path / "shots")
    assert len(findings.figure_problems) == 1
    assert "was not decoded (naturalWidth 0)" in findings.figure_problems[0]
    assert len(findings.caption_problems) == 1
    assert findings.caption_problems[0].startswith("Listing 16.2.7: no caption holds it")


def test_checker_without_a_table_of_contents(browser: Any, tmp_path: Path) -> None:
    page = _page(tmp_path, toc="")
    page.write_text(page.read_text(encoding="utf-8").replace('id="TOC"', 'id="contents"'),
                    encoding="utf-8")
    findings = check_page(browser, page, Expected(), tmp_path / "shots")
    assert findings.toc_links == 0
    assert findings.broken_toc_links == ["no table of contents (nav#TOC)"]


@pytest.mark.parametrize("which", ["shipped", "synthetic"])
def test_expected_outputs_come_from_the_study_definition(which: str) -> None:
    study = load_study(STUDY_FILE) if which == "shipped" else synthetic_study(3)
    expected = expected_from_study(study)
    assert sorted(expected.figures + expected.captions) == sorted(
        spec.label for spec in study.output_specs)
    assert expected.figures == tuple(spec.label for spec in study.figures())
    assert all(label.startswith("Figure ") for label in expected.figures)
    assert not any(label.startswith("Figure ") for label in expected.captions)


# --- the rendered report --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def study(rendered_project: Path) -> Any:
    return load_study(study_file(rendered_project))


@pytest.fixture(scope="module")
def report(browser: Any, rendered_project: Path, rendered_report: Path, study: Any,
           tmp_path_factory: pytest.TempPathFactory) -> Findings:
    html = rendered_report / f"{report_stem(rendered_project)}.html"
    assert html.is_file(), html
    return check_page(browser, html, expected_from_study(study),
                      tmp_path_factory.mktemp("report-screenshots"))


@pytest.mark.render
def test_report_has_no_console_errors_or_failed_loads(report: Findings) -> None:
    problems = report.console_errors + report.failed_loads
    assert problems == [], _explain(report, problems)


@pytest.mark.render
def test_report_table_of_contents_links_resolve_and_scroll(report: Findings) -> None:
    assert report.toc_links > 0
    problems = report.broken_toc_links + report.toc_click_failures
    assert problems == [], _explain(report, problems)


@pytest.mark.render
def test_report_every_figure_decoded_and_displayed(report: Findings, study: Any) -> None:
    assert report.figures_checked == len(study.figures())
    assert report.figure_problems == [], _explain(report, report.figure_problems)


@pytest.mark.render
def test_report_every_table_and_listing_caption_displayed(report: Findings, study: Any) -> None:
    assert report.captions_checked == len(study.output_specs) - len(study.figures())
    assert report.caption_problems == [], _explain(report, report.caption_problems)
