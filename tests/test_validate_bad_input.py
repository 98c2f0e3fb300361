"""`trialreport validate`: one test per kind of bad input, each naming file, row and column."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from conftest import SPEC
from trialreport.cli import main


def run(data: Path, tmp_path: Path, capsys) -> tuple[int, str, dict]:
    out = tmp_path / "violations.json"
    before = sorted(p.name for p in data.iterdir())
    code = main(["validate", "--data", str(data), "--spec", str(SPEC), "--json", str(out)])
    text = capsys.readouterr().out
    assert sorted(p.name for p in data.iterdir()) == before  # nothing written into the data
    return code, text, json.loads(out.read_text(encoding="utf-8"))


def violation(report: dict, **match) -> dict:
    found = [v for v in report["violations"]
             if all(str(v.get(k)) == str(val) for k, val in match.items())]
    assert found, f"no violation {match} in {report['violations'][:5]}"
    return found[0]


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set file row ``row`` (header = row 1) of ``column`` to ``value``."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.loc[row - 2, column] = value
    frame.to_csv(path, index=False, lineterminator="\n")


def test_shipped_data_is_clean(data_copy, tmp_path, capsys) -> None:
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 0 and report["valid"] and report["violations"] == []
    assert "conform" in text


def test_missing_file(data_copy, tmp_path, capsys) -> None:
    (data_copy / "adae.csv").unlink()
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="file", dataset="ADAE")
    assert v["file"].endswith("adae.csv") and "missing" in v["message"]
    assert "adae.csv" in text


def test_missing_column(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    pd.read_csv(path, dtype=str).drop(columns="AGE").to_csv(path, index=False)
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="missing-column", variable="AGE")
    assert v["file"].endswith("adsl.csv") and v["row"] == 1
    assert "AGE" in text and "adsl.csv" in text


def test_unknown_extra_column_is_a_warning(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["NICKNAME"] = "x"
    frame.to_csv(path, index=False, lineterminator="\n")
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 0 and report["n_warnings"] == 1
    v = violation(report, rule="extra-column", variable="NICKNAME", severity="warning")
    assert v["file"].endswith("adsl.csv") and v["row"] == 1
    assert "NICKNAME" in text


def test_wrong_type(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adsl.csv", 5, "AGE", "forty")
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="type", variable="AGE")
    assert v["row"] == 5 and v["value"] == "forty" and v["subject"] == "ALEVIATE-004"
    assert v["file"].endswith("adsl.csv")
    assert len([x for x in report["violations"] if x["row"] == 5]) == 1  # reported once
    assert "forty" in text and v["message"] == "is not an integer"


def test_value_outside_codelist(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adsl.csv", 7, "SEX", "X")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="codelist", variable="SEX", row=7)
    assert v["value"] == "X" and v["file"].endswith("adsl.csv")


def test_value_outside_range(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adsl.csv", 3, "AGE", "75")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    assert violation(report, rule="range", variable="AGE", row=3)["value"] == "75"


def test_duplicate_subject(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    pd.concat([frame, frame.iloc[[2]]]).to_csv(path, index=False, lineterminator="\n")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    dup = [v for v in report["violations"] if v["rule"] == "unique-key"]
    assert {v["row"] for v in dup} == {4, 26}
    assert all(v["variable"] == "USUBJID" and v["value"] == "ALEVIATE-003" for v in dup)
    assert all(v["file"].endswith("adsl.csv") for v in dup)


def test_adverse_event_for_unknown_subject(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adae.csv", 10, "USUBJID", "ALEVIATE-999")
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="X-06", row=10, variable="USUBJID")
    assert v["value"] == "ALEVIATE-999" and v["file"].endswith("adae.csv")
    assert "ALEVIATE-999" in text


def test_assessment_before_randomisation(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adeff.csv", 2, "ADT", "2011-01-01")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="X-07", row=2, variable="ADT")
    assert v["value"] == "2011-01-01" and v["file"].endswith("adeff.csv")
    assert v["subject"] == "ALEVIATE-001"


def test_visit_outside_window(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adeff.csv", 3, "ADY", "150")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    assert violation(report, rule="window", row=3, variable="ADY")["value"] == "150"


def test_inconsistent_derived_flag(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adsl.csv", 4, "SAFFL", "Y")  # ALEVIATE-003 was never dosed
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    assert violation(report, rule="ADSL-04", row=4)["subject"] == "ALEVIATE-003"
    # each broken rule names the rule's own columns once, not every column of the record
    found = {(v["rule"], v["variable"]) for v in report["violations"] if v["row"] == 4}
    assert found == {("ADSL-04", "SAFFL"), ("ADSL-04", "TRTSDT"), ("ADSL-06", "NCOURSE"),
                     ("ADSL-06", "SAFFL"), ("ADSL-07", "TRT01A"), ("ADSL-07", "SAFFL")}


def test_empty_file(data_copy, tmp_path, capsys) -> None:
    (data_copy / "adsl.csv").write_bytes(b"")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="file", dataset="ADSL")
    assert "empty" in v["message"] and v["row"] == 1 and v["file"].endswith("adsl.csv")


def test_non_utf8_bytes(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adae.csv"
    lines = path.read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b"Alemtuzumab", b"Alemtuzum\xe1b", 1)
    path.write_bytes(b"\n".join(lines))
    code, text, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="file", dataset="ADAE")
    assert v["row"] == 6 and v["variable"] == "TRTA" and "UTF-8" in v["message"]
    assert "0xE1" in v["message"] and v["file"].endswith("adae.csv")


def test_byte_order_mark_is_accepted(data_copy, tmp_path, capsys) -> None:
    path = data_copy / "adsl.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 0 and report["valid"]


def test_very_large_file_is_refused_with_its_size(data_copy, tmp_path, capsys,
                                                  monkeypatch) -> None:
    monkeypatch.setenv("TRIALREPORT_MAX_FILE_MB", "0.01")  # 10 KiB limit, adae.csv is larger
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    v = violation(report, rule="file", dataset="ADAE")
    assert "MiB" in v["message"] and "limit" in v["message"]


def test_many_violations_reported_in_one_pass(data_copy, tmp_path, capsys) -> None:
    edit_csv(data_copy / "adsl.csv", 5, "AGE", "forty")
    edit_csv(data_copy / "adsl.csv", 7, "SEX", "X")
    edit_csv(data_copy / "adae.csv", 10, "USUBJID", "ALEVIATE-999")
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    assert {(v["rule"], v["row"]) for v in report["violations"]} >= {
        ("type", 5), ("codelist", 7), ("X-06", 10)}


def test_sas_transport_file_is_read(data_copy, tmp_path, capsys) -> None:
    import pyreadstat
    csv = data_copy / "adex.csv"
    frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
    for col in ("EXSEQ", "EXDOSE", "ASTDY"):
        frame[col] = frame[col].astype(int)
    pyreadstat.write_xport(frame, str(data_copy / "adex.xpt"), table_name="ADEX",
                           file_format_version=5)
    csv.unlink()
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 0, report["violations"][:3]
    assert report["datasets"]["ADEX"]["file"].endswith("adex.xpt")


def test_usage_error_exit_2(tmp_path, capsys) -> None:
    assert main(["validate", "--data", str(tmp_path / "nowhere")]) == 2
    assert main(["validate", "--bogus"]) == 2


def test_malformed_specification_is_a_usage_error(data_copy, tmp_path, capsys) -> None:
    import shutil

    spec = tmp_path / "spec"
    shutil.copytree(SPEC, spec)
    text = (spec / "adsl.yml").read_text(encoding="utf-8")
    (spec / "adsl.yml").write_text(text.replace("dataset: ADSL\n", ""), encoding="utf-8")
    assert main(["validate", "--data", str(data_copy), "--spec", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "adsl.yml" in err and "dataset" in err


def test_rows_are_counted_as_lines_of_the_file_despite_blank_lines(data_copy, tmp_path,
                                                                  capsys) -> None:
    edit_csv(data_copy / "adsl.csv", 5, "AGE", "forty")
    path = data_copy / "adsl.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(lines[:2] + [""] + lines[2:]), encoding="utf-8")  # blank line 3
    code, _, report = run(data_copy, tmp_path, capsys)
    assert code == 1
    assert violation(report, rule="type", variable="AGE")["row"] == 6  # line 5 moved to 6
