"""The TLF package: each numbered table, listing and figure as its own RTF file, with an index.

Built from the ARD (no book render). The RTF text is read back by a small decoder written here
(independent of the writer's escaping) and compared, cell by cell, with the TableContent the
book's table is drawn from; the book's HTML is checked to hold the same cells. LibreOffice, when
installed, converts an RTF table and an RTF figure to PDF.
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DATA, SPEC, STUDY_FILE
from trialreport.ard import build_ard
from trialreport.data import load_trial
from trialreport.tables import TableContent, build_output, output_content, to_html
from trialreport.tables._content import Column, Row, Spanner, needs_landscape
from trialreport.tables._rtf import rtf_text, table_layout, table_rtf
from trialreport.tlf import (
    INDEX_COLUMNS,
    INDEX_FILES,
    TlfError,
    read_tlf_index,
    tlf_file_name,
    write_tlf_package,
)

HOSTILE = '{\\rtf1 \\par} \\u65? Behçet ≥ 5 😀 <b>&amp;</b>\ttab'


# --------------------------------------------------------------------------------------
# reading RTF back (only what a TLF file uses: groups, \b, \~, \line, \tab, \uN?, escapes)
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\\uc\d ?|\\f\d+ ?|\\u(-?\d+)(?:\?| )?|\\([{}\\])|\\(~)"
                    r"|\\(line|tab|b) ?|([{}])|([^\\{}]+)")


def decode(text: str) -> tuple[str, bool]:
    """Plain text of an RTF cell and whether any of it is bold."""
    out: list[str] = []
    units: list[int] = []
    bold = False

    def flush() -> None:
        if units:
            out.append(b"".join(u.to_bytes(2, "little", signed=True) for u in units)
                       .decode("utf-16-le"))
            units.clear()

    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None, f"unexpected RTF at {text[pos:pos + 20]!r}"
        pos = m.end()
        if m.group(0).startswith(("\\uc", "\\f")):  # a font or fallback count: no text
            continue
        if m.group(1) is not None:
            units.append(int(m.group(1)))
            continue
        flush()
        if m.group(2):
            out.append(m.group(2))
        elif m.group(3):
            out.append("\u00a0")
        elif m.group(4) == "line":
            out.append("\n")
        elif m.group(4) == "tab":
            out.append("\t")
        elif m.group(4) == "b":
            bold = True
        elif m.group(6):
            out.append(m.group(6))
    flush()
    return "".join(out), bold


def _group_end(text: str, start: int) -> int:
    """Index just past the group opening at ``text[start] == "{"``."""
    depth, i = 0, start
    while True:
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        i += 1
        if depth == 0:
            return i


_CELL_TEXT = re.compile(r"\\fs\d+\{\\f\d+(\\b)? ")


def table_rows(rtf: str) -> list[list[tuple[str, bool]]]:
    """Every table row of the document: its cells' decoded text and bold flag."""
    rows = []
    for chunk in rtf.split("\\intbl\\row")[:-1]:
        cells = []
        for m in _CELL_TEXT.finditer(chunk):
            end = _group_end(chunk, m.start() + m.group(0).index("{"))
            if chunk[end:end + 5] == "\\cell":  # not a paragraph (title, notes) before it
                text, bold = decode(chunk[m.end():end - 1])
                cells.append((text, bold or m.group(1) is not None))
        rows.append(cells)
    return rows


_SUBLINE = re.compile(r"\{\\pard\\hyphpar\\fi0\\li0\\ri0\\ql\\fs\d+\{\\f\d+ ")
_PAGE = re.compile(r"\\page(?![a-z])")


def pages(rtf: str) -> list[str]:
    """The document's text page by page (its explicit page breaks)."""
    return _PAGE.split(rtf)


def subline(page: str) -> str:
    """The plain text of the line(s) under the title of a page of a table's RTF."""
    m = _SUBLINE.search(page)
    assert m is not None, "no population line on the page"
    end = _group_end(page, m.end() - len(m.group(0)) + m.group(0).rindex("{"))
    return decode(page[m.end():end - 1])[0].replace("\u200b", "")


def braces_balanced(rtf: str) -> bool:
    depth = 0
    i = 0
    while i < len(rtf):
        if rtf[i] == "\\":
            i += 2
            continue
        depth += {"{": 1, "}": -1}.get(rtf[i], 0)
        if depth < 0:
            return False
        i += 1
    return depth == 0


def header_texts(content: TableContent) -> list[list[str]]:
    """The column-header rows as plain text (spanner row, then labels with big N)."""
    labels = [content.stub_label, *(c.label + (f"\n(N={c.n})" if c.n is not None else "")
                                    for c in content.columns)]
    if not content.spanners:
        return [labels]
    owner = {c: sp for sp in content.spanners for c in sp.columns}
    spans: list[str] = [""]
    last = None
    for col in content.columns:
        sp = owner.get(col.id)
        if sp is None:
            spans.append("")
        elif sp is not last:
            spans.append(sp.label + (f" (N={sp.n})" if sp.n is not None else ""))
        last = sp
    return [spans, labels]


def body_rows(rtf: str, content: TableContent) -> list[list[tuple[str, bool]]]:
    """The body rows of a table's RTF (column headers, repeated on each page, left out)."""
    heads = header_texts(content)
    width = 1 + len(content.columns)
    return [row for row in table_rows(rtf)
            if len(row) == width and [t for t, _ in row] not in heads]


def expected_rows(content: TableContent) -> list[list[tuple[str, bool]]]:
    return [[(content.stub_text(r), r.bold),
             *((content.cell(r, c.id), False) for c in content.columns)] for r in content.rows]


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trial():
    data = load_trial(DATA, SPEC, STUDY_FILE)
    return data, build_ard(data)


@pytest.fixture(scope="module")
def package(trial, tmp_path_factory) -> tuple[Path, list[Path]]:
    data, ard = trial
    out = tmp_path_factory.mktemp("report") / "tlf"
    return out, write_tlf_package(data, ard, out)


def _content(rows: list[Row], n_columns: int = 3, **kw) -> TableContent:
    columns = tuple(Column(f"g{i}", f"Arm {i}", 10 + i) for i in range(1, n_columns + 1))
    wants = {"_stub": 20, **{c.id: 12 for c in columns}}
    floors = {"_stub": 10, **{c.id: 10 for c in columns}}
    base = dict(table_id="t", label="Table 14.9.9", title="Hand-made", population="All (N=30)",
                numbered_title=True, stub_id="_stub", stub_label="Item", columns=columns,
                spanners=(), rows=tuple(rows), left_columns=(), footnotes=("A note.",),
                source="Source: X.", source_datasets=("X",), widths={}, width_wants=wants,
                width_floors=floors)
    base.update(kw)
    return TableContent(**base)


# --------------------------------------------------------------------------------------
# the package of the study
# --------------------------------------------------------------------------------------


def test_index_lists_every_output_in_order(trial, package) -> None:
    data, ard = trial
    out, paths = package
    specs = data.study.output_specs
    assert [p.name for p in paths] == [tlf_file_name(s) for s in specs] + list(INDEX_FILES)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    rows = list(csv.reader(io.StringIO((out / "index.csv").read_text(encoding="utf-8"))))
    assert tuple(rows[0]) == INDEX_COLUMNS
    assert len(rows) == 1 + len(specs)
    for spec, row in zip(specs, rows[1:], strict=True):
        record = dict(zip(INDEX_COLUMNS, row, strict=True))
        content = output_content(data.study, spec.name, ard, data)
        assert (record["number"], record["kind"], record["title"]) == (spec.id, spec.kind,
                                                                      spec.title)
        assert record["file"] == tlf_file_name(spec) and (out / record["file"]).is_file()
        assert record["population"] == content.population
        assert record["source_datasets"] == ", ".join(content.source_datasets)
        assert record["source_datasets"] and record["source_datasets"] in content.source
    assert read_tlf_index(out / "index.csv") == [tlf_file_name(s) for s in specs]
    page = (out / "index.html").read_text(encoding="utf-8")
    for spec in specs:
        assert f'<a href="{tlf_file_name(spec)}">' in page
        assert html.escape(spec.title) in page


def test_every_file_is_an_rtf_document_with_title_population_and_pages(trial, package) -> None:
    data, ard = trial
    out, _ = package
    for spec in data.study.output_specs:
        rtf = (out / tlf_file_name(spec)).read_bytes().decode("ascii")  # 7-bit RTF only
        assert rtf.startswith("{\\rtf1"), spec.name
        assert braces_balanced(rtf), spec.name
        content = output_content(data.study, spec.name, ard, data)
        assert rtf_text(content.caption) in rtf
        if spec.population:
            assert re.search(r"\(N=\d+\)$", content.population), content.population
            assert rtf_text(content.population) in rtf
        for note in content.footnotes:
            assert rtf_text(note) in rtf
        assert rtf_text(content.source) in rtf
        assert "Page {\\field{\\*\\fldinst PAGE }" in rtf and "\\fldinst NUMPAGES" in rtf
        if spec.kind == "figure":
            assert "\\pngblip" in rtf and table_rows(rtf) == []


def test_table_cells_and_headers_are_the_books(trial, package) -> None:
    """Every body row (label, indentation, bold, every cell) and every header with big N, in
    order, as the TableContent holds them; the book's table shows the same cells."""
    data, ard = trial
    out, _ = package
    tables = [s for s in data.study.output_specs if s.kind != "figure"]
    assert len(tables) >= 10
    for spec in tables:
        content = output_content(data.study, spec.name, ard, data)
        rtf = (out / tlf_file_name(spec)).read_text(encoding="ascii")
        assert body_rows(rtf, content) == expected_rows(content), spec.name
        rows = table_rows(rtf)
        for head in header_texts(content):  # repeated on every page
            assert any([t for t, _ in r] == head for r in rows), (spec.name, head)
        for col in content.columns:
            if col.n is not None:
                assert f"{rtf_text(col.label)}\\line (N={col.n})" in rtf
        book = to_html(build_output(data.study, spec.name, ard, data, title=False))
        for row in content.rows:
            assert html.escape(row.label) in book
            for col in content.columns:
                assert html.escape(content.cell(row, col.id)) in book
    efficacy = output_content(data.study, "efficacy", ard, data)
    assert efficacy.spanners and len(header_texts(efficacy)) == 2
    assert any(r.level > 0 for r in efficacy.rows) and any(r.bold for r in efficacy.rows)


def test_every_page_repeats_title_population_and_headers(trial, package) -> None:
    """Pages break where the text fills them; each page has the title, the population line
    (with the arm, in listings) and the column headers; rows of one arm never share a page
    with another arm's; the notes close the last page."""
    data, ard = trial
    out, _ = package
    seen_pages = 0
    for spec in (s for s in data.study.output_specs if s.kind != "figure"):
        content = output_content(data.study, spec.name, ard, data)
        rtf = (out / tlf_file_name(spec)).read_text(encoding="ascii")
        found = []
        for page in pages(rtf):
            seen_pages += 1
            assert rtf_text(content.caption) in page, spec.name
            assert [[t for t, _ in r] for r in table_rows(page)][:len(header_texts(content))] \
                == header_texts(content), spec.name
            rows = body_rows(page, content)
            assert rows, spec.name
            groups = {r.group for r in content.rows if expected_rows(_one(content, r))[0]
                      in rows}
            line = subline(page)
            if content.grouped:
                assert len(groups) == 1, spec.name
                assert line == f"{content.population}\n{groups.pop()}"
            else:
                assert line == content.population
            found += rows
        assert found == expected_rows(content), spec.name
        notes = pages(rtf)[-1]
        assert all(rtf_text(n) in notes for n in content.footnotes)
        assert all(rtf_text(n) not in p for n in content.footnotes for p in pages(rtf)[:-1])
    assert seen_pages > len([s for s in data.study.output_specs if s.kind != "figure"])
    listing = output_content(data.study, "sae_listing", ard, data)
    assert listing.grouped and len({r.group for r in listing.rows}) == len(data.study.arms)


def _one(content: TableContent, row: Row) -> TableContent:
    """``content`` with only ``row`` (to compare one expected row)."""
    from dataclasses import replace

    return replace(content, rows=(row,))


# --------------------------------------------------------------------------------------
# layout rules, escaping and failure, on hand-made tables
# --------------------------------------------------------------------------------------


def test_hostile_text_is_escaped_and_reads_back_unchanged() -> None:
    rows = [Row(HOSTILE, {"g1": HOSTILE, "g2": "1 (5%)", "g3": "−2.5"}, level=1, bold=True)]
    content = _content(rows, footnotes=(HOSTILE,), population=HOSTILE,
                       spanners=(Spanner("s", HOSTILE, ("g1", "g2"), 20),))
    rtf = table_rtf(content)
    rtf.encode("ascii")
    assert braces_balanced(rtf)
    assert "{\\rtf1 \\par}" not in rtf.split("\n", 1)[1]  # only the document's own header
    assert body_rows(rtf, content) == expected_rows(content)
    assert decode(rtf_text(HOSTILE)) == (HOSTILE, False)
    assert rtf_text("😀") == "\\u-10179?\\u-8704?"  # a surrogate pair


def test_bold_and_indentation_survive_page_breaks() -> None:
    """rtflite applies row-wise attributes page by page from the first row; the stub carries
    its own bold and indentation, so every page shows the right ones."""
    rows = [Row(f"Term {i}", {"g1": str(i), "g2": "", "g3": f"{i} (1%)"}, level=i % 3,
                bold=i % 3 == 0) for i in range(160)]
    content = _content(rows)
    rtf = table_rtf(content)
    assert rtf.count("\\page") >= 2  # several pages
    assert body_rows(rtf, content) == expected_rows(content)


def test_wide_tables_go_on_landscape_pages() -> None:
    row = Row("Any adverse event", {f"g{i}": "12 (100%)" for i in range(1, 13)})
    narrow, wide = _content([row], 3), _content([row], 12)
    assert not needs_landscape(narrow) and table_layout(narrow)[0] == "portrait"
    assert needs_landscape(wide)  # the book's rule
    assert table_layout(wide)[0] == "landscape"
    assert "\\landscape" in table_rtf(wide) and "\\landscape" not in table_rtf(narrow)
    # columns whose narrowest widths overflow a portrait page even in 8 pt: landscape too
    crowded = _content([row], 6, width_floors={"_stub": 10, **{f"g{i}": 20 for i in
                                                                range(1, 7)}})
    assert not needs_landscape(crowded) and table_layout(crowded)[:2] == ("landscape", 9)


def test_measured_wrapping_and_page_breaks() -> None:
    from trialreport.tables._paginate import FILL, Block, paginate, text_lines

    words = "Infections and infestations " * 4
    assert text_lines("Total", 2.0, 9) == 1 and text_lines("a\nb", 2.0, 9) == 2
    assert [text_lines(words, w, 9) for w in (6.0, 2.0, 1.0)] == sorted(
        text_lines(words, w, 9) for w in (6.0, 2.0, 1.0))
    assert text_lines(words, 1.0, 9) > text_lines(words, 6.0, 9) == 1
    assert text_lines("Thrombocytopenia", 0.3, 9) >= 3  # a word wider than the line breaks
    room = 100 / FILL  # 100 pt fill a page
    # rows fill pages; each block (row group) starts a page
    assert paginate([Block([40, 40, 40]), Block([10])], room, 0) == [[0, 0, 1], [2]]
    # a section head stays with its first item
    assert paginate([Block([45, 45, 5, 40], [False, False, True, False])], room, 0) == [
        [0, 0, 1, 1]]
    # the notes need room after the last rows: the last row moves to a page with them
    assert paginate([Block([30, 30, 30])], room, 20) == [[0, 0, 1]]


def test_a_failing_output_names_itself_and_leaves_the_last_package(trial, package,
                                                                  tmp_path: Path,
                                                                  monkeypatch) -> None:
    data, ard = trial
    out = tmp_path / "tlf"
    shutil.copytree(package[0], out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    spec = next(s for s in data.study.output_specs if s.kind == "table")

    def broken(content):
        if content.caption == spec.caption:
            raise ValueError("no room")
        return table_rtf(content)

    monkeypatch.setattr("trialreport.tables._rtf.table_rtf", broken)
    with pytest.raises(TlfError, match=re.escape(f"{spec.caption} ({spec.name}): ValueError: "
                                                 "no room")):
        write_tlf_package(data, ard, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tlf"]  # no staging left behind
    (tmp_path / "a-file").write_text("mine\n")
    with pytest.raises(TlfError, match="exists and is not a folder"):
        write_tlf_package(data, ard, tmp_path / "a-file")
    assert (tmp_path / "a-file").read_text() == "mine\n"


def test_the_index_reader_refuses_paths_and_bad_rows(tmp_path: Path) -> None:
    header = ",".join(INDEX_COLUMNS)
    cases = {"../secret.rtf": "not a TLF file name",
             "table-14.1.1-a/../../b.rtf": "not a TLF file name"}
    for name, message in cases.items():
        (tmp_path / "index.csv").write_text(f"{header}\n14.1.1,table,T,P,{name},ADSL\n")
        with pytest.raises(ValueError, match=f"line 2: column file: {message}"):
            read_tlf_index(tmp_path / "index.csv")
    (tmp_path / "index.csv").write_text("number,kind\n")
    with pytest.raises(ValueError, match="line 1: header"):
        read_tlf_index(tmp_path / "index.csv")


# --------------------------------------------------------------------------------------
# any trial: a synthetic four-arm study
# --------------------------------------------------------------------------------------


def test_a_four_arm_trial(tmp_path: Path) -> None:
    from trialreport.demodata.synthetic import write_synthetic_trial

    files = write_synthetic_trial(tmp_path / "trial", n_subjects=120, arms=4, seed=11)
    data = load_trial(files["data"], files["spec"], files["study"])
    ard = build_ard(data)
    out = tmp_path / "tlf"
    paths = write_tlf_package(data, ard, out)
    assert len(paths) == len(data.study.output_specs) + len(INDEX_FILES)
    landscape = 0
    for spec in data.study.output_specs:
        rtf = (out / tlf_file_name(spec)).read_text(encoding="ascii")
        content = output_content(data.study, spec.name, ard, data)
        assert rtf_text(content.caption) in rtf and rtf_text(content.population) in rtf
        if isinstance(content, TableContent):
            assert body_rows(rtf, content) == expected_rows(content), spec.name
            big_ns = [x.n for x in (*content.columns, *content.spanners) if x.n is not None]
            assert len(big_ns) >= 4 or spec.kind == "listing", spec.name  # four arms
            landscape += "\\landscape" in rtf
    assert landscape >= 1


# --------------------------------------------------------------------------------------
# the render hook, the command and the supplement
# --------------------------------------------------------------------------------------


def test_the_tlf_command_writes_the_same_bytes_again(package, tmp_path: Path) -> None:
    """``trialreport tlf`` writes the package; a second build gives byte-identical files."""
    from trialreport.cli import main

    other = tmp_path / "report"  # a folder that is not a TLF package is never replaced
    other.mkdir()
    (other / "keep.txt").write_text("mine\n")
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert main(["tlf", "--out", str(tmp_path / "tlf")]) == 0
        assert main(["tlf", "--data", str(tmp_path / "nope")]) == 2
        assert main(["tlf", "--out", str(other)]) == 2
    assert "index.csv" in out.getvalue() and "data folder not found" in err.getvalue()
    assert "holds no TLF package" in err.getvalue()
    assert [p.name for p in other.iterdir()] == ["keep.txt"]
    for first in package[1]:
        again = tmp_path / "tlf" / first.name
        assert again.read_bytes() == first.read_bytes(), first.name
    assert len(list((tmp_path / "tlf").iterdir())) == len(package[1])


def test_the_supplement_ships_the_package_as_rendered(package, tmp_path: Path) -> None:
    from trialreport.supplement.bundle import BundleError, tlf_files

    project = tmp_path / "study"
    (project / "report").mkdir(parents=True)
    assert tlf_files(project) == {}  # a report without a package
    folder = project / "report" / "tlf"
    shutil.copytree(package[0], folder)
    shipped = tlf_files(project)
    assert sorted(shipped) == sorted(f"report/tlf/{p.name}" for p in package[1])
    (folder / "notes.txt").write_text("stray\n")
    with pytest.raises(BundleError, match="report/tlf/notes.txt is not listed"):
        tlf_files(project)
    (folder / "notes.txt").unlink()
    first = next(folder.glob("table-*.rtf"))
    first.unlink()
    with pytest.raises(BundleError, match=f"report/tlf/{first.name} is missing"):
        tlf_files(project)


def test_a_supplement_with_the_package_verifies(package, tmp_path: Path) -> None:
    from supplement_helpers import make_study

    from trialreport.supplement.bundle import build_supplement
    from trialreport.supplement.verify import verify_supplement

    project = make_study(tmp_path)
    shutil.copytree(package[0], project / "report" / "tlf")
    result = build_supplement(project)
    assert result.warnings == []
    assert [m for m in result.members if m.startswith("report/tlf/")] == sorted(
        f"report/tlf/{p.name}" for p in package[1])
    report = verify_supplement(result.path)
    assert report.ok, "\n".join(report.lines())
    assert report.unexpected == []


# --------------------------------------------------------------------------------------
# a word processor reads the files
# --------------------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("soffice") is None,
                    reason="LibreOffice (soffice) is not installed: "
                           "apt-get install libreoffice-writer-nogui")
def test_libreoffice_converts_a_table_and_a_figure_to_pdf(trial, package,
                                                          tmp_path: Path) -> None:
    """A word processor reads the files: the text is there, and the longest table and the
    listing take exactly the pages the RTF breaks (no row runs onto a page of its own)."""
    from pypdf import PdfReader

    data, ard = trial
    out, _ = package
    contents = {s.name: output_content(data.study, s.name, ard, data)
                for s in data.study.output_specs}
    longest = max((n for n, c in contents.items() if isinstance(c, TableContent)),
                  key=lambda n: len(contents[n].rows))
    listing = next(s.name for s in data.study.output_specs if s.kind == "listing")
    figure = next(s.name for s in data.study.output_specs if s.kind == "figure")
    names = list(dict.fromkeys(["efficacy", longest, listing, figure]))
    files = [out / tlf_file_name(data.study.output(n)) for n in names]
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"),
                    *map(str, files)], check=True, capture_output=True, timeout=300)
    for name, rtf in zip(names, files, strict=True):
        reader = PdfReader(tmp_path / "pdf" / (rtf.stem + ".pdf"))
        texts = [" ".join((page.extract_text() or "").replace("\u200b", "").split())
                 for page in reader.pages]
        content = contents[name]
        assert len(reader.pages) == len(pages(rtf.read_text(encoding="ascii"))), name
        for number, text in enumerate(texts, start=1):
            assert " ".join(content.caption.split()) in text, name
            assert f"Page {number} of {len(texts)}" in text, name
            assert content.population in text
        if isinstance(content, TableContent):  # cells may wrap: compare without spaces
            whole = "".join("".join(texts).split())
            for row in content.rows:
                for col in content.columns:
                    cell = "".join(content.cell(row, col.id).split())
                    assert cell in whole, (name, row.label, col.id)


@pytest.mark.render
def test_render_writes_the_package_beside_ard_json(rendered_report: Path, package) -> None:
    folder = rendered_report / "tlf"
    assert (rendered_report / "ard.json").is_file() and (rendered_report / "figures").is_dir()
    assert sorted(p.name for p in folder.iterdir()) == sorted(p.name for p in package[1])
    for path in package[1]:
        assert (folder / path.name).read_bytes() == path.read_bytes(), path.name
