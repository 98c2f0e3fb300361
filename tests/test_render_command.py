"""`trialreport render` at the command line: stops on bad data or a failing cell with a clear
message and leaves the last good report untouched; usage errors exit 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import ROOT
from trialreport.cli import main
from trialreport.paths import copy_project


def last_good_report(folder: Path) -> dict[str, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ALEVIATE-CSR-v1.0.0.html").write_text("<p>last good report</p>")
    (folder / "ard.json").write_text("{}")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_bad_data_stops_the_render_and_names_the_cell(data_copy, tmp_path, capsys,
                                                      monkeypatch) -> None:
    frame = pd.read_csv(data_copy / "adsl.csv", dtype=str, keep_default_na=False)
    frame.loc[3, "AGE"] = "forty"
    frame.to_csv(data_copy / "adsl.csv", index=False, lineterminator="\n")
    project = copy_project(ROOT, tmp_path / "project")  # the render's lock and cache go there
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(project))
    monkeypatch.chdir(project)
    out = tmp_path / "report"
    before = last_good_report(out)
    code = main(["render", "--data", str(data_copy), "--output", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "adsl.csv" in captured.out and "forty" in captured.out and "AGE" in captured.out
    assert "nothing was rendered" in captured.err
    assert contents(out) == before


def test_failing_cell_reports_chapter_label_line_and_keeps_last_report(tmp_path, capsys,
                                                                      monkeypatch) -> None:
    project = tmp_path / "project"
    copy_project(ROOT, project)
    chapter = project / "chapters" / "04-baseline.qmd"
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace('b.table("baseline")', 'b.table("no-such-table")'),
                       encoding="utf-8")
    line = next(i for i, x in enumerate(chapter.read_text().splitlines(), 1)
                if "no-such-table" in x)
    monkeypatch.setenv("TRIALREPORT_PROJECT", str(project))
    monkeypatch.chdir(project)
    out = project / "report"
    before = last_good_report(out)
    code = main(["render", "--engine", "builtin", "--format", "html", "--output", str(out)])
    err = capsys.readouterr().err
    assert code == 1
    assert "chapters/04-baseline.qmd" in err and "tbl-baseline" in err
    assert f"chapters/04-baseline.qmd, line {line}" in err
    assert "KeyError" in err and "Traceback" in err and "no-such-table" in err
    assert contents(out) == before
    assert not [p for p in project.iterdir() if p.name.startswith(".render-")]


@pytest.mark.parametrize(("args", "named"), [(["render", "--format", "html,odt"], "odt"),
                                             (["render", "--engine", "latex"], "latex"),
                                             (["render", "--data", "/nonexistent/x"], "x")])
def test_usage_errors_exit_2(args, named, capsys) -> None:
    assert main(args) == 2
    assert named in capsys.readouterr().err
