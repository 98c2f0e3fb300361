"""Chapters stay inside the Quarto subset both engines render, hold no analysis logic and type
no numbers: every number in prose is inline code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from trialreport.render import check_supported_syntax


def chapter_files() -> list[Path]:
    book = yaml.safe_load((ROOT / "_quarto.yml").read_text(encoding="utf-8"))["book"]
    return [ROOT / p for p in [*book["chapters"], *book.get("appendices", [])]]


def prose(text: str) -> str:
    """The text a reader sees that was typed by hand (code, shortcodes, headings removed)."""
    text = re.sub(r"\A---\n.*?\n---\n", "", text, flags=re.S)
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`\{python\}[^`]*`", "", text)
    text = re.sub(r"`[^`]*`", "", text)
    text = re.sub(r"\{\{<.*?>\}\}", "", text)
    text = re.sub(r"\{[#.][^}]*\}", "", text)
    text = re.sub(r"@(tbl|fig|sec)-[\w-]+", "", text)
    rule = re.compile(r"^\|[:\- |]+$")
    lines = [x for x in text.splitlines()
             if not x.startswith(("#", ": ")) and not rule.match(x)]
    return "\n".join(lines)


def test_the_book_lists_every_chapter_file() -> None:
    listed = {p.resolve() for p in chapter_files()}
    present = {p.resolve() for p in (ROOT / "chapters").glob("*.qmd")} | {ROOT / "index.qmd"}
    assert listed == present


@pytest.mark.parametrize("path", chapter_files(), ids=lambda p: p.name)
def test_chapter_uses_only_the_supported_quarto_subset(path: Path) -> None:
    assert check_supported_syntax(path.read_text(encoding="utf-8"), str(path)) == []


@pytest.mark.parametrize("path", chapter_files(), ids=lambda p: p.name)
def test_no_number_is_typed_in_prose(path: Path) -> None:
    typed = [(i, line) for i, line in enumerate(prose(path.read_text("utf-8")).splitlines(), 1)
             if re.search(r"\d", line)]
    assert typed == [], f"{path.name}: numbers typed in prose: {typed}"


@pytest.mark.parametrize("path", chapter_files(), ids=lambda p: p.name)
def test_code_cells_are_one_line_calls(path: Path) -> None:
    """No analysis logic in chapters: cells only import, bind and call trialreport."""
    cells = re.findall(r"```\{python\}\n(.*?)```", path.read_text("utf-8"), flags=re.S)
    for cell in cells:
        code = [x for x in cell.splitlines() if x.strip() and not x.startswith("#|")]
        assert len(code) <= 4, cell
        for line in code:
            assert re.match(r"^(import trialreport as tr|from trialreport[\w.]* import [\w, ]+|"
                            r"\w+ = [\w.]+(\(\))?|b\.\w+\([^()]*\))$", line), line


def test_detector_catches_a_typed_number() -> None:
    assert re.search(r"\d", prose("Of 31 patients, `{python} n.consort('assessed')` ..."))
    assert not re.search(r"\d", prose("Of `{python} n.consort('assessed')` patients"))
