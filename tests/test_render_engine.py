"""Tests of the builtin render engine on tests/fixtures/minibook (a tiny Quarto book)."""

from __future__ import annotations

import functools
import os
import re
import shutil
import stat
import textwrap
from pathlib import Path

import pytest

from trialreport.render import (
    SUPPORTED_CELL_OPTIONS,
    RenderError,
    check_supported_syntax,
    fingerprint_paths,
)
from trialreport.render import render_book as render_any_engine
from trialreport.render.qmd import parse_qmd

FIXTURE = Path(__file__).parent / "fixtures" / "minibook"
STEM = "MINI-CSR-v0.1.0"
CHAPTERS = ["chapters/01-demographics.qmd", "chapters/02-efficacy.qmd", "appendices/a-listings.qmd"]

pytestmark = pytest.mark.render
# These tests are about the builtin engine, also on machines where quarto is installed.
render_book = functools.partial(render_any_engine, engine="builtin")


def _copy_fixture(dest: Path) -> Path:
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns(".cache", "report"))
    return dest


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The minibook rendered once into all three formats (cold cache)."""
    root = _copy_fixture(tmp_path_factory.mktemp("render") / "minibook")
    lines: list[str] = []
    result = render_book(root, root / "report", progress=lines.append)
    return root, result, lines


def _derived(book, tmp_path: Path) -> Path:
    """A copy of the rendered book, cache included, for tests that edit files."""
    root = tmp_path / "minibook"
    shutil.copytree(book[0], root)
    return root


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- first (cold) render ------------------------------------------------------------------
def test_outputs_and_progress(book):
    root, result, lines = book
    assert result.engine == "builtin"
    assert set(result.outputs) == {"html", "docx", "pdf"}
    for fmt, suffix in (("html", ".html"), ("docx", ".docx"), ("pdf", ".pdf")):
        assert result.outputs[fmt] == root / "report" / f"{STEM}{suffix}"
        assert result.outputs[fmt].stat().st_size > 1000
    assert result.executed == CHAPTERS
    for i, chapter in enumerate(["index.qmd", *CHAPTERS], start=1):
        assert any(
            re.match(rf"\[{i}/4\] {re.escape(chapter)}\s+\S.*\d+\.\d s$", ln) for ln in lines
        ), lines
    assert not [w for w in result.warnings if "WARNING" in w]
    # nothing left behind next to the output folder
    assert not [p for p in root.iterdir() if p.name.startswith((".trialreport-", ".render-"))]


def test_html(book):
    html = book[1].outputs["html"].read_text(encoding="utf-8")
    assert "Table 1.1: Demographics and baseline characteristics" in html.replace("\u00a0", " ")
    assert "Table A.1" in html.replace("\u00a0", " ")
    assert "Figure 2.1: Change from baseline by arm" in html.replace("\u00a0", " ")
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert "??" not in html
    assert "gt_table" in html  # great_tables' own HTML is kept
    assert 'id="TOC"' in html and 'href="#sec-demog"' in html
    assert "A total of 12 subjects were randomised" in html
    # inline values are data: escaped in HTML, shown literally in every format
    flat = re.sub(r"\s+", " ", html).replace("’", "'").replace("&#39;", "'")
    assert "&lt;b&gt;St Mary's&lt;/b&gt; &amp; Co *1*" in flat  # escaped, not markup
    assert "<b>St Mary" not in flat and "<em>1</em>" not in flat
    assert "Odds ratio <strong>4.1</strong>" in html  # output: asis
    assert "Total responders: <strong>5</strong>" in html  # IPython Markdown
    assert '<span class="header-section-number">1</span>' in html
    assert '<span class="header-section-number">Appendix A</span>' in html
    assert "<script" not in html.lower() or 'src="http' not in html  # self-contained
    # tables set aside during pandoc's embedding are all back, each once, in book order
    assert "trialreport-deferred-html" not in html
    titles = ["Baseline demographics", "Subject listing", "Visit listing"]  # the GT() calls
    assert html.count('class="gt_table"') == len(titles)
    assert all(title in html for title in titles)


def test_restoring_set_aside_tables_refuses_a_missing_or_extra_placeholder(tmp_path):
    from trialreport.render.pandoc import PandocError, restore_deferred_html

    folder = tmp_path / "deferred-html"
    folder.mkdir()
    (folder / "1.html").write_bytes(b"<table>one</table>")
    (folder / "2.html").write_bytes(b"<table>two</table>\r\n")
    page = tmp_path / "page.html"
    page.write_bytes(b"<p>a</p><!--trialreport-deferred-html:2-->"
                     b"<!--trialreport-deferred-html:1--></body>")
    restore_deferred_html(page, folder)
    assert page.read_bytes() == b"<p>a</p><table>two</table>\r\n<table>one</table></body>"
    page.write_bytes(b"<p>a</p><!--trialreport-deferred-html:1-->")
    with pytest.raises(PandocError, match="placeholders"):
        restore_deferred_html(page, folder)


def test_docx(book):
    import docx

    doc = docx.Document(str(book[1].outputs["docx"]))
    assert len(doc.tables) >= 4
    paragraphs = " ".join(p.text for p in doc.paragraphs).replace("’", "'")
    assert "randomised at <b>St Mary's</b> & Co *1*" in paragraphs  # shown literally
    first = doc.tables[0]
    header_text = " ".join(c.text for row in first.rows[:2] for c in row.cells)
    assert "Parameter" in header_text and "Treatment arm" in header_text
    body_text = " ".join(c.text for row in first.rows for c in row.cells)
    assert "43.2\u00a0(11.0)" in body_text  # numbers never wrap: the space is a no-break space
    # great_tables title/footnote rows are paragraphs, not table rows
    assert "Baseline demographics" not in body_text and "Source: ADSL" not in body_text
    paragraphs = {p.text.replace("\u00a0", " "): p.style.name for p in doc.paragraphs}
    caption = "Table 1.1: Demographics and baseline characteristics (safety population)"
    assert paragraphs.get(caption) == "Table Caption"
    assert paragraphs.get("Source: ADSL. SD = standard deviation.") == "Table Note"
    assert len(doc.inline_shapes) >= 1
    header = doc.sections[0].header.paragraphs[0].text
    assert header == "MINI-1 · CSR v0.1.0"
    # the landscape block became its own section
    assert any(s.orientation == 1 for s in doc.sections)
    assert "??" not in "\n".join(paragraphs)


def test_pdf(book):
    from pypdf import PdfReader

    reader = PdfReader(str(book[1].outputs["pdf"]))
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")
    assert "Table 1.1: Demographics and baseline characteristics" in text
    assert "43.2 (11.0)" in text and "Placebo (N=6)" in text
    assert "Table A.1: Listing of subjects" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "MINI-1 · CSR v0.1.0" in text
    assert "??" not in text
    landscape = [p for p in reader.pages if p.mediabox.width > p.mediabox.height]
    assert len(landscape) == 1
    images = sum(len(page.images) for page in reader.pages)
    assert images >= 1


# -- cache --------------------------------------------------------------------------------
def test_rerender_executes_nothing_and_skips_conversion(book, tmp_path):
    root = _derived(book, tmp_path)
    lines: list[str] = []
    result = render_book(root, root / "report", progress=lines.append)
    assert result.executed == []
    assert all(t.seconds == 0.0 and not t.executed for t in result.chapters)
    assert any("outputs  cached" in ln for ln in lines), lines
    assert result.outputs["pdf"].read_bytes() == book[1].outputs["pdf"].read_bytes()


def test_prose_edit_executes_nothing_but_changes_output(book, tmp_path):
    root = _derived(book, tmp_path)
    _replace(root / "chapters" / "01-demographics.qmd", "were randomised", "were randomly assigned")
    result = render_book(root, root / "report", formats=["html"], progress=lambda _: None)
    assert result.executed == []
    html = result.outputs["html"].read_text(encoding="utf-8")
    assert "A total of 12 subjects were randomly assigned" in html


def test_code_edit_reexecutes_that_chapter_only(book, tmp_path):
    root = _derived(book, tmp_path)
    _replace(
        root / "chapters" / "02-efficacy.qmd",
        'ax.set_xlabel("Subject")',
        'ax.set_xlabel("Subject index")',
    )
    result = render_book(root, root / "report", formats=["html"], progress=lambda _: None)
    assert result.executed == ["chapters/02-efficacy.qmd"]
    again = render_book(
        root, root / "report", formats=["html"], refresh=True, progress=lambda _: None
    )
    assert again.executed == CHAPTERS


def test_env_data_folder_is_used_and_fingerprinted(book, tmp_path):
    root = _derived(book, tmp_path)
    alt = root / "alt-data"
    alt.mkdir()
    rows = (root / "data" / "adsl.csv").read_text().splitlines()
    extra = [r.replace("01-0", "02-0") for r in rows[1:9]]
    (alt / "adsl.csv").write_text("\n".join(rows + extra) + "\n")
    result = render_book(
        root,
        root / "report",
        formats=["html"],
        env={"TRIALREPORT_DATA": str(alt)},
        progress=lambda _: None,
    )
    assert result.executed == CHAPTERS
    assert "A total of 20 subjects were randomised" in result.outputs["html"].read_text(
        encoding="utf-8"
    )


# -- errors -------------------------------------------------------------------------------
def test_failing_cell_raises_and_keeps_previous_outputs(book, tmp_path):
    root = _derived(book, tmp_path)
    before = {p.name: p.read_bytes() for p in (root / "report").iterdir()}
    chapter = root / "chapters" / "02-efficacy.qmd"
    text = chapter.read_text(encoding="utf-8")
    bad = "\n```{python}\n#| label: broken-cell\nx = 1\nundefined_name + x\n```\n"
    chapter.write_text(text + bad, encoding="utf-8")
    line = text.count("\n") + 2
    with pytest.raises(RenderError) as info:
        render_book(root, root / "report", progress=lambda _: None)
    err = info.value
    message = str(err)
    assert "chapters/02-efficacy.qmd" in message
    assert "broken-cell" in message
    assert f"line {line}" in message
    assert "NameError" in message and "undefined_name" in message
    assert f"chapters/02-efficacy.qmd, line {line + 3}" in message  # traceback points into the .qmd
    assert "\x1b[" not in message
    assert (err.chapter, err.cell, err.line) == ("chapters/02-efficacy.qmd", "broken-cell", line)
    after = {p.name: p.read_bytes() for p in (root / "report").iterdir()}
    assert after == before
    assert not [p for p in root.iterdir() if p.name.startswith((".trialreport-", ".render-"))]


def test_unlabelled_failing_cell_is_named_by_position(book, tmp_path):
    root = _derived(book, tmp_path)
    _replace(
        root / "appendices" / "a-listings.qmd",
        "import os\n",
        'import os\nraise ValueError("boom")\n',
    )
    with pytest.raises(RenderError, match=r"appendices/a-listings\.qmd: cell 1 \(line 3\)") as info:
        render_book(root, root / "report", formats=["html"], progress=lambda _: None)
    assert "ValueError: boom" in info.value.traceback


def test_other_engine_cells_are_refused(book, tmp_path):
    root = _derived(book, tmp_path)
    _replace(
        root / "index.qmd",
        "# Preface {.unnumbered}\n",
        "# Preface {.unnumbered}\n\n```{r}\n1\n```\n",
    )
    with pytest.raises(RenderError, match=r"index\.qmd:3: `\{r\}` cells are not supported"):
        render_book(root, root / "report", formats=["html"], progress=lambda _: None)


def test_unresolved_reference_gives_question_marks_and_warning(book, tmp_path):
    root = _derived(book, tmp_path)
    _replace(root / "index.qmd", "the efficacy results", "the efficacy results (@tbl-missing)")
    lines: list[str] = []
    result = render_book(root, root / "report", formats=["html"], progress=lines.append)
    assert "??" in result.outputs["html"].read_text(encoding="utf-8")
    assert any("warning" in ln and "@tbl-missing" in ln for ln in lines), lines


# -- syntax subset ------------------------------------------------------------------------
def test_minibook_uses_only_supported_syntax():
    for path in sorted(FIXTURE.rglob("*.qmd")):
        rel = path.relative_to(FIXTURE).as_posix()
        assert check_supported_syntax(path.read_text(encoding="utf-8"), rel) == []


def test_check_supported_syntax_flags_problems():
    text = textwrap.dedent(
        """\
        # Title

        ```{r}
        summary(cars)
        ```

        ```{python}
        #| label: tbl-x
        #| code-fold: true
        x = 1
        ```

        See @eq-model and `{r} nrow(cars)`.

        {{< include other.qmd >}}

        ::: {.panel-tabset}
        :::
        """
    )
    problems = check_supported_syntax(text, "ch.qmd")
    joined = "\n".join(problems)
    assert "ch.qmd:3:" in joined and "{r}" in joined
    assert "ch.qmd:7:" in joined and "code-fold" in joined
    assert "@eq-model" in joined
    assert "include" in joined
    assert "panel-tabset" in joined
    assert len(problems) == 6
    assert {
        "echo",
        "output",
        "include",
        "warning",
        "label",
        "tbl-cap",
        "fig-cap",
    } <= SUPPORTED_CELL_OPTIONS


def test_check_supported_syntax_ignores_code_blocks():
    text = "```markdown\n```{r}\n@eq-x {{< include x >}}\n```\n```\n\nMail me at a@b.org.\n"
    assert check_supported_syntax(text, "x.qmd") == []


# -- units --------------------------------------------------------------------------------
def test_parse_qmd_lines_and_options():
    text = (
        "---\ntitle: T\n---\n\nIntro `{python} a`.\n\n"
        "```{python}\n#| label: fig-a\n#| fig-cap: 'A: b'\nplot()\n```\n"
    )
    doc = parse_qmd(text, "x.qmd")
    assert doc.front_matter == {"title": "T"}
    (cell,) = doc.cells
    assert cell.line == 7 and cell.label == "fig-a" and cell.options["fig-cap"] == "A: b"
    assert cell.source == "plot()"
    assert [(e.expr, e.line) for e in doc.inline_exprs()] == [("a", 5)]


def test_fingerprint_paths(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    (a / "x.csv").write_text("1")
    first = fingerprint_paths([a])
    assert first == fingerprint_paths([a])
    (a / "x.csv").write_text("2")
    assert fingerprint_paths([a]) != first
    (a / "x.csv").write_text("1")
    (a / "y.csv").write_text("")
    assert fingerprint_paths([a]) != first
    assert fingerprint_paths([tmp_path / "missing"]) != fingerprint_paths([a])


def test_quarto_engine_runs_quarto_and_moves_outputs(tmp_path, monkeypatch):
    """engine=auto uses `quarto` when it is on PATH (a stand-in script here)."""
    root = _copy_fixture(tmp_path / "minibook")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "quarto"
    script.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            # fake quarto: quarto render DIR --to FMTS --output-dir OUT
            out="$6"
            echo "[1/4] index.qmd"
            echo "data=$TRIALREPORT_DATA" > "$out/index.html"
            echo docx > "$out/MINI-CSR-v0.1.0.docx"
            echo pdf > "$out/MINI-CSR-v0.1.0.pdf"
            """
        )
    )
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    lines: list[str] = []
    result = render_any_engine(root, env={"TRIALREPORT_DATA": "/d"}, progress=lines.append)
    assert result.engine == "quarto"
    assert result.outputs["docx"] == root / "report" / "MINI-CSR-v0.1.0.docx"
    assert result.outputs["pdf"].read_text().strip() == "pdf"
    assert result.outputs["html"].read_text().strip() == "data=/d"
    assert "[1/4] index.qmd" in lines


def test_execution_key_does_not_depend_on_where_the_project_lies(tmp_path):
    """Paths inside the project count relative to it; a path outside it counts as it is."""
    from trialreport.render.engine import common_fingerprint

    first = shutil.copytree(FIXTURE, tmp_path / "a" / "book")
    second = shutil.copytree(FIXTURE, tmp_path / "b" / "elsewhere")

    def key(project: Path, data: Path | None = None) -> str:
        return common_fingerprint(project, {"TRIALREPORT_PROJECT": str(project),
                                            "TRIALREPORT_DATA": str(data or project / "data")})

    assert key(first) == key(second)
    outside = shutil.copytree(FIXTURE / "data", tmp_path / "data")
    assert key(first, outside) != key(first)  # same bytes, but a different named data folder
    (second / "data" / "extra.csv").write_text("X\n1\n")
    assert key(first) != key(second)
