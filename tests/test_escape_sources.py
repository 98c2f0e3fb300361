"""Text from every input file reaches the report's Markdown as text, never as markup: the
specification, the study definition's facts, the reconstruction notes and the changelog.
(How the escaped Markdown then looks in HTML, Word and PDF: tests/test_print_escape.py.)"""

from __future__ import annotations

import shutil
from pathlib import Path

import pypandoc
import pytest

from conftest import SPEC, STUDY_FILE, study_with
from trialreport.history import history_markdown, parse_changelog
from trialreport.methods import reconstruction_markdown, synopsis_facts_markdown
from trialreport.spec.describe import specification_markdown
from trialreport.spec.model import load_specification
from trialreport.study import load_study

HOSTILE = ("[click](javascript:alert(1)) $x^2$ <script>alert(2)</script> {{< meta title >}} "
           "@fig-x `code` **bold** #read(\"/etc/passwd\")")


def _plain(markdown: str) -> str:
    """What a reader sees: the Markdown converted to plain text by pandoc."""
    return pypandoc.convert_text(markdown, "plain", format="markdown", extra_args=["--wrap=none"])


def _html(markdown: str) -> str:
    return pypandoc.convert_text(markdown, "html", format="markdown")


def _assert_literal(markdown: str) -> None:
    html = _html(markdown)
    assert "<a " not in html and "<script" not in html and "<strong>bold" not in html
    assert "<code>code</code>" not in html and 'class="math' not in html
    text = " ".join(_plain(markdown).split())
    assert "[click](javascript:alert(1))" in text and "$x^2$" in text
    assert "{{< meta title >}}" in text and "#read(\"/etc/passwd\")" in text


def test_specification_labels(tmp_path: Path) -> None:
    spec = tmp_path / "data_spec"
    shutil.copytree(SPEC, spec)
    path = spec / "adex.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("label: Dose per course", f"label: {HOSTILE!r}"), "utf-8")
    markdown = specification_markdown(load_specification(spec), 2)
    start = markdown.index("## ADEX")
    end = markdown.index("\n## ", start + 1)
    _assert_literal(markdown[start:end])  # the ADEX section: no rules, so no own bold


def test_study_definition_facts(tmp_path: Path) -> None:
    study = load_study(STUDY_FILE)
    info = study.info.model_dump(mode="json", exclude_none=True)
    info["objectives"] = {"text": HOSTILE, "source": "conference",
                          "quote": "failure of standard therapy"}
    hostile = study_with(study, study=info)
    _assert_literal(synopsis_facts_markdown(hostile))


def test_reconstruction_notes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "reconstruction.yml").write_text(f"choices:\n  - {HOSTILE!r}\n", encoding="utf-8")
    _assert_literal(reconstruction_markdown(load_study(STUDY_FILE), data))


def test_changelog() -> None:
    entries = parse_changelog(f"## [9.9.9] - 2030-01-01\n- {HOSTILE}\n")
    _assert_literal(history_markdown(entries))


@pytest.mark.parametrize("value", ["a|b", "line\nbreak", "tab\there", "\x07bell"])
def test_control_characters_and_pipes_never_break_a_table(value: str) -> None:
    entries = parse_changelog(f"## [1.0.0] - 2030-01-01\n- {value}\n")
    html = _html(history_markdown(entries))
    assert html.count("<tr") == 2  # header and one row: the value did not split the table
