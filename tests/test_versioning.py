"""Version stamp (version, commit, checksums, time) and the document history from CHANGELOG.md."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from trialreport.history import history_markdown, parse_changelog, read_history
from trialreport.versioning import (
    NOT_A_CHECKOUT,
    STAMP_ENV,
    STAMP_FILE,
    TIMESTAMP_KEY,
    current_stamp,
    data_checksums,
    drop_render_timestamp,
    find_stamp,
    git_info,
    render_timestamp,
    report_stem,
    report_version,
    spec_checksums,
    stamp_for_ard,
    version_conflicts,
    version_stamp,
    write_stamp,
)

ROOT = Path(__file__).resolve().parents[1]


def _project(tmp_path: Path, version: str = "9.8.7") -> Path:
    project = tmp_path / "proj"
    (project / "data").mkdir(parents=True)
    (project / "data_spec").mkdir()
    (project / "data_spec" / "study.yml").write_text(
        f"report: {{version: {version}}}\nstudy: {{id: DEMO}}\n", encoding="utf-8")
    (project / "data" / "adsl.csv").write_bytes(b"USUBJID,AGE\nA-001,40\n")
    (project / "data" / "notes.txt").write_text("not a dataset\n", encoding="utf-8")
    return project


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=Test", "-c", "user.email=test@example.org",
                    "-c", "commit.gpgsign=false", "-C", str(project), *args],
                   check=True, capture_output=True)


def test_version_comes_from_the_study_definition(tmp_path: Path) -> None:
    project = _project(tmp_path, "9.8.7")
    assert report_version(project) == "9.8.7"
    assert report_stem(project) == "DEMO-CSR-v9.8.7"
    study = yaml.safe_load((ROOT / "data_spec" / "study.yml").read_text(encoding="utf-8"))
    assert report_version(ROOT) == study["report"]["version"]
    stamp = version_stamp(project)
    assert stamp["version"] == "9.8.7"
    # the tool has its own version, recorded beside the report's
    from importlib.metadata import version

    assert stamp["tool"] == {"name": "trialreport", "version": version("trialreport")}


def test_a_study_without_a_version_is_a_clear_error(tmp_path: Path) -> None:
    from trialreport.versioning import VersionError

    project = _project(tmp_path)
    (project / "data_spec" / "study.yml").write_text("study: {id: DEMO}\n", encoding="utf-8")
    with pytest.raises(VersionError, match="no report.version"):
        report_version(project)


def test_quarto_copy_of_the_version_agrees(tmp_path: Path) -> None:
    assert version_conflicts(ROOT) == []  # _quarto.yml's trialreport.version, if any
    project = _project(tmp_path, "9.8.7")
    assert version_conflicts(project) == []
    (project / "_quarto.yml").write_text("trialreport: {version: 1.0.0}\n", encoding="utf-8")
    assert "9.8.7" in version_conflicts(project)[0]
    assert report_version(project) == "9.8.7"  # the study definition wins


def test_data_checksums_match_hashlib(tmp_path: Path) -> None:
    project = _project(tmp_path)
    sums = data_checksums(project / "data")
    assert set(sums) == {"adsl.csv"}  # only *.csv / *.xpt
    assert sums["adsl.csv"] == hashlib.sha256((project / "data/adsl.csv").read_bytes()).hexdigest()
    real = data_checksums(ROOT / "data")
    for name, digest in real.items():
        assert digest == hashlib.sha256((ROOT / "data" / name).read_bytes()).hexdigest()
    assert "adsl.csv" in real
    spec = spec_checksums(ROOT / "data_spec")
    assert spec["study.yml"] == hashlib.sha256((ROOT / "data_spec/study.yml").read_bytes()) \
        .hexdigest()


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_dirty_tree_is_marked(tmp_path: Path) -> None:
    project = _project(tmp_path)
    _git(project, "init", "-q")
    _git(project, "add", "-A")
    _git(project, "commit", "-q", "-m", "first")
    clean = git_info(project)
    assert clean["dirty"] is False
    assert len(clean["commit"]) == 40 and clean["commit"].startswith(clean["short"])
    assert clean["describe"] == clean["short"]
    (project / "data" / "adsl.csv").write_bytes(b"USUBJID,AGE\nA-001,41\n")
    dirty = git_info(project)
    assert dirty["dirty"] is True
    assert dirty["describe"] == f"{clean['short']}+modified"
    assert version_stamp(project)["git"]["describe"].endswith("+modified")


def test_not_a_checkout_and_shipped_stamp(tmp_path: Path) -> None:
    project = _project(tmp_path)
    info = git_info(project)
    assert info["describe"] == NOT_A_CHECKOUT and info["commit"] is None
    shipped = {"version": "9.8.7", "git": {"commit": "a" * 40, "short": "aaaaaaaaaaaa",
                                           "dirty": False, "describe": "aaaaaaaaaaaa"}}
    (project / STAMP_FILE).write_text(json.dumps(shipped), encoding="utf-8")
    info = git_info(project)
    assert info["commit"] == "a" * 40 and info["source"] == STAMP_FILE
    assert version_stamp(project)["git"]["source"] == STAMP_FILE


def test_source_date_epoch_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764028800")
    assert render_timestamp() == "2025-11-25T00:00:00Z"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    assert render_timestamp().endswith("Z")


def test_timestamp_is_the_only_changing_field(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000000000")
    first = stamp_for_ard(version_stamp(project))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "2000000000")
    second = stamp_for_ard(version_stamp(project))
    assert first[TIMESTAMP_KEY] != second[TIMESTAMP_KEY]
    assert drop_render_timestamp(first) == drop_render_timestamp(second)
    assert json.loads(json.dumps(first, sort_keys=True)) == first  # plain JSON types
    for key in ("python", "pandas", "numpy", "scipy", "statsmodels", "pingouin", "lifelines",
                "great_tables", "matplotlib", "nbclient", "pypandoc", "pandoc",
                "typst"):
        assert key in first["packages"]
    assert first["engine"]["name"] == "builtin"


def test_current_stamp_reads_the_render_stamp(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    project = _project(tmp_path)
    monkeypatch.delenv(STAMP_ENV, raising=False)
    stamp = current_stamp(project, project / "data")
    assert stamp["version"] == "9.8.7"
    assert find_stamp({"study_id": "DEMO", "stamp": stamp_for_ard(stamp)})["version"] == "9.8.7"
    (project / "data_spec" / "study.yml").write_text("study: {id: DEMO}\n", encoding="utf-8")
    assert current_stamp(project)["version"] == "unknown"  # never fails on a missing version
    # the render writes one stamp; chapters read it back
    path = write_stamp({**stamp, TIMESTAMP_KEY: "2030-01-01T00:00:00Z"}, tmp_path / "s.json")
    monkeypatch.setenv(STAMP_ENV, str(path))
    assert current_stamp(project)[TIMESTAMP_KEY] == "2030-01-01T00:00:00Z"


def test_history_from_the_project_changelog() -> None:
    entries = read_history(ROOT / "CHANGELOG.md")
    assert entries, "CHANGELOG.md has no released version"
    assert entries[-1].version == "1.0.0" and entries[-1].date == "2026-11-25"
    assert entries[-1].changes
    assert entries[0].version == report_version(ROOT)
    assert read_history(ROOT) == entries
    assert "| 1\\.0\\.0 | 2026\\-11\\-25 |" in history_markdown(entries)  # text, escaped


def test_history_parsing_rules() -> None:
    text = """# Changelog

Intro text.

## [Unreleased]
### Added
- not yet

## [1.1.0] - 2027-01-10
### Fixed
- a bug in the
  exposure table
### Changed
* wording

## [1.0.0] - 2026-11-25
- First version.

[1.1.0]: https://example.org/compare
"""
    entries = parse_changelog(text)
    assert [(e.version, e.date) for e in entries] == [("1.1.0", "2027-01-10"),
                                                      ("1.0.0", "2026-11-25")]
    assert entries[0].changes == ("Fixed: a bug in the exposure table", "Changed: wording")
    assert entries[1].changes == ("First version.",)
    assert parse_changelog(text, include_unreleased=True)[0].version == "Unreleased"
    table = history_markdown(entries)
    assert "Fixed\\: a bug in the exposure table\\. Changed\\: wording\\." in table
    hostile = parse_changelog("## [2.0.0] - 2027-02-01\n- see [here](javascript:alert(1)) "
                              "$x$ <b>bold</b> {{< meta title >}}\n")
    escaped = history_markdown(hostile)  # changelog text is shown literally, never as markup
    assert "\\[here\\]\\(javascript\\:alert\\(1\\)\\)" in escaped and "\\$x\\$" in escaped
    assert "\\<b\\>" in escaped and "\\{\\{\\< meta" in escaped
