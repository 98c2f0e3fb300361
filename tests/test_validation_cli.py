"""`trialreport validate` for people: usage mistakes are messages (exit 2), the report is short,
sorted and summed up, and the full list is only in ``--json``."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import SPEC
from trialreport.cli import main
from trialreport.validation.violations import ValidationReport


def set_values(path: Path, column: str, changes: dict[int, str]) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    i = rows[0].index(column)
    for line, value in changes.items():
        rows[line - 1][i] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["validate", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return code, captured.out, captured.err


@pytest.mark.parametrize("value", ["abc", "0", "-5", "nan", "inf", "1e999"])
def test_bad_size_limit_is_a_usage_error(data_copy, capsys, monkeypatch, value) -> None:
    monkeypatch.setenv("TRIALREPORT_MAX_FILE_MB", value)
    code, out, err = run(capsys, "--data", str(data_copy), "--spec", str(SPEC))
    assert code == 2 and out == ""
    assert f"TRIALREPORT_MAX_FILE_MB must be a positive number of MiB, not {value!r}" in err


def test_json_into_a_missing_folder(data_copy, tmp_path, capsys) -> None:
    target = tmp_path / "no" / "such" / "report.json"
    code, out, err = run(capsys, "--data", str(data_copy), "--json", str(target))
    assert code == 2 and out == "" and "does not exist" in err and str(target) in err
    assert not target.parent.exists()


def test_json_onto_a_folder(data_copy, tmp_path, capsys) -> None:
    code, _, err = run(capsys, "--data", str(data_copy), "--json", str(tmp_path))
    assert code == 2 and "is a folder" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_json_into_an_unwritable_folder(data_copy, tmp_path, capsys) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run(capsys, "--data", str(data_copy), "--json", str(locked / "r.json"))
    assert code == 2 and "permission denied" in err


def test_json_write_failure_is_a_message_and_keeps_the_old_report(
        data_copy, tmp_path, capsys, monkeypatch) -> None:
    target = tmp_path / "report.json"
    target.write_text('{"old": true}\n', encoding="utf-8")
    set_values(data_copy / "adsl.csv", "SEX", {3: "X"})

    def disk_full(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_json", disk_full)
    code, _, err = run(capsys, "--data", str(data_copy), "--json", str(target))
    assert code == 2 and "cannot write (No space left on device)" in err
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "report.json"]


def test_report_is_sorted_capped_and_summed_up(data_copy, tmp_path, capsys) -> None:
    set_values(data_copy / "adsl.csv", "SEX", {line: "X" for line in range(25, 1, -1)})
    set_values(data_copy / "adsl.csv", "AGE", {9: "forty"})
    set_values(data_copy / "adae.csv", "AESEV", {30: "HUGE", 4: "TINY"})
    out_json = tmp_path / "report.json"
    code, out, _ = run(capsys, "--data", str(data_copy), "--json", str(out_json), "--show", "3")
    assert code == 1
    table = [line for line in out.splitlines() if line.startswith("error")]
    shown = [(cells[1], int(cells[2]), cells[5]) for cells in
             (re.split(r"\s{2,}", line) for line in table)]
    assert shown == sorted(shown, key=lambda t: (t[0], t[1]))  # by file, then row
    assert [s for s in shown if s[2] == "codelist" and s[0] == "adsl.csv"] == [
        ("adsl.csv", 2, "codelist"), ("adsl.csv", 3, "codelist"), ("adsl.csv", 4, "codelist")]
    assert ("adae.csv", 4, "codelist") in shown and ("adsl.csv", 9, "type") in shown
    assert "... and 21 more of rule codelist on SEX (see --json for all)" in out
    assert out.rstrip().splitlines()[-1] == \
        "6 files, 516 records: 27 violations of 2 rules"
    report = json.loads(out_json.read_text(encoding="utf-8"))
    assert len([v for v in report["violations"] if v["variable"] == "SEX"]) == 24
    assert report["n_errors"] == 27 and report["datasets"]["ADSL"]["records"] == 24


def test_clean_summary(data_copy, capsys) -> None:
    code, out, _ = run(capsys, "--data", str(data_copy))
    assert code == 0
    assert out.splitlines() == [f"{data_copy}: all datasets conform to the specification.",
                                "6 files, 516 records: no violations"]


def test_data_values_cannot_drive_the_terminal(data_copy, capsys) -> None:
    set_values(data_copy / "adsl.csv", "SEX", {5: "\x1b[2J\x1b[31mX"})
    code, out, _ = run(capsys, "--data", str(data_copy))
    assert code == 1 and "\x1b" not in out and "'\\x1b[2J\\x1b[31mX'" in out


def test_json_round_trips_paths_and_text(tmp_path, monkeypatch) -> None:
    from trialreport.validation import violations
    from trialreport.validation.violations import violation_frame

    monkeypatch.setattr(violations, "JSON_CHUNK", 2)  # several chunks
    report = ValidationReport(data_dir=tmp_path)
    odd = ['a/b', '\\/', '},{"dataset":"X"}', "line\nbreak", None]
    report.add(violation_frame(dataset="DM", file="/a/b\\c/dm.csv", rule="type",
                               message='is "odd" / ünïcode', rows=[2, 3, 4, 5, 6],
                               values=odd, variable="X"))
    target = tmp_path / "r.json"
    report.write_json(target)
    text = target.read_text(encoding="utf-8")
    data = json.loads(text)
    assert [v["value"] for v in data["violations"]] == odd
    lines = text.splitlines()
    assert [line.startswith('    {"dataset": "DM"') or line.startswith('    {"dataset":"DM"')
            for line in lines[7:12]] == [True] * 5 and lines[12:] == ["  ]", "}"]
    assert data["violations"][0]["file"] == "/a/b\\c/dm.csv" and "\\/a" not in text
    assert data["violations"][1]["message"] == 'is "odd" / ünïcode'
    assert data["violations"][0]["row"] == 2 and data["n_errors"] == 5
    assert [v.row for v in report.violations] == [2, 3, 4, 5, 6]
