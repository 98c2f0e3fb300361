"""No value silently becomes missing: every value that does not parse is a violation naming the
file, the row (the physical line of the record), the column and the value."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import SPEC
from trialreport.cli import main
from trialreport.validation import validate_folder


def rows_of(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def set_value(path: Path, line: int, column: str, value: str) -> str:
    """Set ``column`` of the record on file line ``line`` (header = 1); returns the old value."""
    rows = rows_of(path)
    i = rows[0].index(column)
    old = rows[line - 1][i]
    rows[line - 1][i] = value
    write_rows(path, rows)
    return old


def validate(data: Path, tmp_path: Path, capsys, spec: Path = SPEC) -> tuple[int, dict, str]:
    out = tmp_path / "report.json"
    code = main(["validate", "--data", str(data), "--spec", str(spec), "--json", str(out)])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, json.loads(out.read_text(encoding="utf-8")), captured.out


def found(report: dict, **match) -> list[dict]:
    return [v for v in report["violations"]
            if all(v.get(k) == val for k, val in match.items())]


def spec_with(tmp_path: Path, dataset: str, after: str, insert: str) -> Path:
    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    path = spec / f"{dataset}.yml"
    text = path.read_text(encoding="utf-8")
    assert after in text
    path.write_text(text.replace(after, after + insert, 1), encoding="utf-8")
    return spec


@pytest.mark.parametrize("value", ["2013-02-30", "2013-13-45"])
def test_impossible_date_in_optional_column(data_copy, tmp_path, capsys, value) -> None:
    path = data_copy / "adsl.csv"
    set_value(path, 3, "TRTEDT", value)
    code, report, text = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="type", row=3, variable="TRTEDT")
    assert len(v) == 1 and v[0]["value"] == value and v[0]["file"].endswith("adsl.csv")
    assert "not a valid date" in v[0]["message"] and value in text


def test_required_invalid_date_is_not_called_missing(data_copy, tmp_path, capsys) -> None:
    set_value(data_copy / "adsl.csv", 4, "RANDDT", "2021-02-30")
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    assert found(report, rule="type", row=4, variable="RANDDT")[0]["message"] == \
        "is not a valid date (no such day or month)"
    assert not found(report, rule="required", row=4)
    assert not [v for v in report["violations"] if v["row"] == 4 and v["rule"] != "type"], \
        "rules reading RANDDT must not blame the record again"


@pytest.mark.parametrize("value", ["NaN", "inf", "-Infinity", "1,5", "0x10"])
def test_non_numbers_in_number_column(data_copy, tmp_path, capsys, value) -> None:
    frame = pd.read_csv(data_copy / "adeff.csv", dtype=str, keep_default_na=False)
    line = int(frame.index[frame["AVAL"] != ""][0]) + 2
    set_value(data_copy / "adeff.csv", line, "AVAL", value)
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="type", row=line, variable="AVAL")
    assert len(v) == 1 and v[0]["value"] == value and v[0]["message"] == "is not a number"


def test_declared_missing_spelling_is_missing(data_copy, tmp_path, capsys) -> None:
    frame = pd.read_csv(data_copy / "adeff.csv", dtype=str, keep_default_na=False)
    line = int(frame.index[frame["PARAMCD"] == "ACTSCORE"][0]) + 2
    set_value(data_copy / "adeff.csv", line, "AVAL", "NaN")
    spec = spec_with(tmp_path, "adeff", "keys: [USUBJID, PARAMCD, AVISITN]\n",
                     "missing_values: [NaN]\n")
    code, report, _ = validate(data_copy, tmp_path, capsys, spec)
    assert code == 1
    assert not found(report, rule="type")
    assert found(report, rule="ADEFF-01", row=line)  # the score is now missing, and required


@pytest.mark.parametrize(("value", "message"), [
    ("12345678901234567890123", "is too large for a 64-bit integer"),
    ("inf", "is not an integer"), ("1e3", "is not an integer"), ("40.0", "is not an integer"),
    (" 40", "is not an integer")])
def test_non_integers_in_integer_column(data_copy, tmp_path, capsys, value, message) -> None:
    set_value(data_copy / "adsl.csv", 5, "AGE", value)
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="type", row=5, variable="AGE")
    assert len(v) == 1 and v[0]["value"] == value and v[0]["message"] == message


def test_whitespace_only_in_required_text_column(data_copy, tmp_path, capsys) -> None:
    set_value(data_copy / "adsl.csv", 6, "SITEID", "   ")
    code, report, text = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, row=6, variable="SITEID")
    assert [x["rule"] for x in v] == ["type"] and v[0]["value"] == "   "
    assert "only spaces" in v[0]["message"] and "'   '" in text  # shown quoted


def test_na_is_a_value_unless_declared_missing(data_copy, tmp_path, capsys) -> None:
    set_value(data_copy / "adsl.csv", 6, "SITEID", "NA")
    report = validate_folder(data_copy, SPEC)
    assert report.ok and report.datasets["ADSL"].loc[4, "SITEID"] == "NA"
    spec = spec_with(tmp_path, "adsl", "keys: [USUBJID]\n", "missing_values: [NA]\n")
    code, data, _ = validate(data_copy, tmp_path, capsys, spec)
    assert code == 1
    v = found(data, rule="required", row=6, variable="SITEID")
    assert len(v) == 1 and v[0]["value"] == "NA"


def test_duplicated_column_name_in_header(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    rows = rows_of(path)
    write_rows(path, [r + [r[rows[0].index("AGE")]] for r in rows if r])
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="file", dataset="ADSL")
    assert v and v[0]["row"] == 1 and v[0]["variable"] == "AGE"
    assert "appears 2 times in the header" in v[0]["message"]


def test_rows_are_file_lines_after_a_quoted_line_break(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    set_value(path, 3, "SITEID", "SITE\nONE")  # record 2 now spans lines 3 and 4
    rows = rows_of(path)
    rows[5 - 1][rows[0].index("AGE")] = "forty"  # the 4th record starts on line 6
    write_rows(path, rows)
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    assert found(report, rule="type", variable="AGE")[0]["row"] == 6


def test_blank_lines_and_quoted_breaks_together(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    set_value(path, 2, "SITEID", "A\r\nB\nC")
    rows = rows_of(path)
    rows[4][rows[0].index("AGE")] = "forty"  # 4th record
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    lines = text.getvalue().split("\n")
    path.write_text("\n".join(lines[:4] + ["", ""] + lines[4:]), encoding="utf-8")
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    # header 1; record 1 on lines 2-4; two blank lines 5-6; records 2-4 on lines 7-9
    assert found(report, rule="type", variable="AGE")[0]["row"] == 9


def test_record_of_empty_fields_is_not_dropped(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    rows = rows_of(path)
    write_rows(path, rows[:3] + [[""] * len(rows[0])] + rows[3:])
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    assert found(report, rule="required", row=4, variable="USUBJID")


@pytest.mark.parametrize(("change", "fields"), [(-1, 31), (+1, 33)])
def test_record_with_wrong_number_of_fields(data_copy, tmp_path, capsys, change,
                                            fields) -> None:
    path = data_copy / "adsl.csv"
    rows = rows_of(path)
    assert len(rows[0]) == 32
    rows[6] = rows[6][:-1] if change < 0 else rows[6] + ["x"]
    write_rows(path, rows)
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="file", dataset="ADSL")[0]
    assert v["row"] == 7 and v["message"] == f"this record has {fields} fields, the header has 32"


def test_latin1_with_cr_line_endings(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    set_value(path, 4, "SITEID", "Hôpital")
    text = path.read_text(encoding="utf-8").replace("\n", "\r")
    path.write_bytes(text.encode("latin-1"))
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="file", dataset="ADSL")[0]
    assert v["row"] == 4 and v["variable"] == "SITEID"
    assert "0xF4 is not valid UTF-8" in v["message"] and "Latin-1" in v["message"]
    assert "CR only" in v["message"]


def test_valid_utf8_with_cr_line_endings_is_read(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    set_value(path, 5, "AGE", "forty")
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r"))
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    assert [(v["rule"], v["row"]) for v in report["violations"]] == [("type", 5)]


def test_binary_garbage(data_copy, tmp_path, capsys) -> None:
    (data_copy / "adae.csv").write_bytes(os.urandom(20000).replace(b"\x00", b"\x07"))
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="file", dataset="ADAE")[0]
    assert "binary file, not CSV text" in v["message"] or "not valid UTF-8" in v["message"]


def test_unclosed_quote(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    assert b'"' not in path.read_bytes()
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[7] = lines[7].replace(",", ',"', 1)  # the field runs to the end of the file
    path.write_text("\n".join(lines), encoding="utf-8")
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    v = found(report, rule="file", dataset="ADSL")[0]
    assert v["row"] == 8 and v["message"] == 'a quoted field is never closed (a " is missing)'


def test_quote_inside_an_unquoted_field_is_text(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    set_value(path, 6, "AGE", "forty")
    set_value(path, 3, "SITEID", "5'11\"")  # written quoted by csv.writer: undo that
    text = path.read_text(encoding="utf-8")
    assert '"5\'11"""' in text
    path.write_text(text.replace('"5\'11"""', "5'11\""), encoding="utf-8")
    code, report, _ = validate(data_copy, tmp_path, capsys)
    assert code == 1
    assert [(v["rule"], v["row"]) for v in report["violations"]] == [("type", 6)]
