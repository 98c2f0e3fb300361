"""SAS transport files read as text: ISO dates from SAS formats, exact numbers, special missing
values kept in the metadata, labels and formats, and a clear error for every damaged file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from trialreport.demodata.sas_trial import build_sas_trial, write_sas_trial
from trialreport.io.readers import DataReadError, read_table, read_table_with_meta, row_number
from trialreport.io.xpt import format_kind, read_xpt

N, SEED = 40, 7


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sas_trial")
    write_sas_trial(folder, n_subjects=N, seed=SEED)
    return folder


@pytest.fixture(scope="module")
def written():
    return build_sas_trial(n_subjects=N, seed=SEED)


def _iso(value: np.datetime64) -> str | None:
    return None if np.isnat(value) else str(np.datetime64(value, "D"))


def test_dates_are_iso_text_equal_to_what_was_written(trial, written) -> None:
    for name, column in (("ADSL", "TRTSDT"), ("ADSL", "TRTEDT"), ("ADAE", "ASTDT"),
                         ("ADTTE", "STARTDT"), ("ADTTE", "ADT"), ("ADEFF", "ADT")):
        text, meta = read_xpt(trial / f"{name.lower()}.xpt")
        expected = [_iso(v) for v in written[name].frame[column].to_numpy()]
        assert list(text[column]) == expected, (name, column)
        var = meta.variable(column)
        assert (var.format, var.kind, var.type) == ("DATE9.", "date", "numeric")
    adsl, _ = read_xpt(trial / "adsl.xpt")
    assert adsl["TRTSDT"].isna().any()  # subjects never treated: a missing date is None


def test_numbers_are_exact_text(trial, written) -> None:
    adsl, _ = read_xpt(trial / "adsl.xpt")
    placebo = adsl["TRT01P"] == "Placebo"
    assert placebo.any() and set(adsl.loc[placebo, "TRT01PN"]) == {"0"}  # exact zero, not 5e-79
    assert set(adsl.loc[~placebo, "TRT01PN"]) == {"25", "50"}  # integers without ".0"
    heights = written["ADSL"].frame["HEIGHTBL"].to_numpy()
    assert list(adsl["HEIGHTBL"]) == [None if np.isnan(h) else repr(float(h)) if h % 1 else
                                      str(int(h)) for h in heights]
    adtte, _ = read_xpt(trial / "adtte.xpt")
    assert set(adtte["CNSR"]) == {"0", "1"}
    adeff, _ = read_xpt(trial / "adeff.xpt")
    assert "0" in set(adeff["AVAL"]) and "0" in set(adeff["CHG"])
    assert all(v is None or "." not in v or not v.endswith(".0") for v in adeff["CHG"])


def test_special_missing_values_are_missing_with_their_code_kept(trial, written) -> None:
    adsl, meta = read_xpt(trial / "adsl.xpt")
    for column, rows in written["ADSL"].special_missing.items():
        assert rows, column
        assert meta.variable(column).special_missing == rows
        for row in rows:
            assert adsl.at[row - 1, column] is None  # never the letter "A" in a numeric column
    codes = set(meta.variable("BMIBL").special_missing.values())
    assert codes == {"A", "B"}
    assert meta.variable("AGE").special_missing == {}
    # every other value of the column is a number
    assert pd.to_numeric(adsl["BMIBL"].dropna()).notna().all()


def test_labels_lengths_and_dataset_metadata(trial) -> None:
    adsl, meta = read_table_with_meta(trial / "adsl.xpt")
    assert (meta.file_format, meta.name, meta.label, meta.version) == (
        "xpt", "ADSL", "Subject-Level Analysis Dataset", 5)
    assert meta.names == list(adsl.columns)
    sex = meta.variable("SEX")
    assert (sex.label, sex.type, sex.length, sex.format) == ("Sex", "character", 1, None)
    assert meta.variable("USUBJID").length == max(len(u) for u in adsl["USUBJID"])
    assert meta.variable("AGE").format == "8."
    assert all(adsl[c].map(lambda v: v is None or isinstance(v, str)).all() for c in adsl)
    assert adsl.index.tolist() == list(range(len(adsl)))
    assert row_number(trial / "adsl.xpt", 0) == 1  # record 1 is row 1


def test_read_table_keeps_working(trial) -> None:
    frame = read_table(trial / "adae.xpt")
    assert frame.dtypes.eq(object).all() and frame["AESEQ"].iloc[0] == "1"


def _write(path: Path, frame: pd.DataFrame, formats: dict[str, str], version: int = 5,
           labels: dict[str, str] | None = None) -> Path:
    pyreadstat.write_xport(frame, str(path), table_name="TEST", file_format_version=version,
                           variable_format=formats, column_labels=labels)
    return path


def test_date_time_and_datetime_formats(tmp_path) -> None:
    day = float((dt.date(2023, 4, 5) - dt.date(1960, 1, 1)).days)
    second = day * 86400 + 3661.25
    frame = pd.DataFrame({
        "D1": [day, -0.5, np.nan], "D2": [day, 0.0, 2936549.0], "D3": [day, 1.0, 1.0],
        "DT1": [second, 0.0, np.nan], "DT2": [second, 86399.0, -1.0],
        "T1": [3661.0, 90000.0, -60.0], "T2": [0.5, 0.0, 59.0], "DD": [second, 0.0, 0.0],
        "N": [19341.0, 0.0, -2.5]})
    formats = {"D1": "DATE9.", "D2": "YYMMDD10.", "D3": "E8601DA10.", "DT1": "DATETIME20.",
               "DT2": "E8601DT19.", "T1": "TIME8.", "T2": "TOD8.", "DD": "DTDATE9.",
               "N": "BEST12."}
    text, meta = read_xpt(_write(tmp_path / "formats.xpt", frame, formats))
    assert list(text["D1"]) == ["2023-04-05", "1959-12-31", None]  # SAS floors -0.5
    assert list(text["D2"]) == ["2023-04-05", "1960-01-01", "9999-12-31"]
    assert list(text["D3"]) == ["2023-04-05", "1960-01-02", "1960-01-02"]
    assert list(text["DT1"]) == ["2023-04-05T01:01:01.25", "1960-01-01T00:00:00", None]
    assert list(text["DT2"]) == ["2023-04-05T01:01:01.25", "1960-01-01T23:59:59",
                                 "1959-12-31T23:59:59"]
    assert list(text["T1"]) == ["01:01:01", "25:00:00", "-00:01:00"]  # durations past 24 h
    assert list(text["T2"]) == ["00:00:00.5", "00:00:00", "00:00:59"]
    assert list(text["DD"]) == ["2023-04-05", "1960-01-01", "1960-01-01"]
    assert list(text["N"]) == ["19341", "0", "-2.5"]  # no date format: the number itself
    kinds = {v.name: v.kind for v in meta.variables}
    assert kinds == {"D1": "date", "D2": "date", "D3": "date", "DT1": "datetime",
                     "DT2": "datetime", "T1": "time", "T2": "time", "DD": "date", "N": None}


def test_date_beyond_year_9999_names_row_and_column(tmp_path) -> None:
    frame = pd.DataFrame({"D": [0.0, 3e6]})
    with pytest.raises(DataReadError) as err:
        read_xpt(_write(tmp_path / "far.xpt", frame, {"D": "DATE9."}))
    assert (err.value.row, err.value.column) == (2, "D") and "9999" in err.value.message


@pytest.mark.parametrize(("name", "kind"), [
    ("DATE9.", "date"), ("date11.", "date"), ("YYMMDD10.", "date"), ("E8601DA.", "date"),
    ("MMDDYY8.", "date"), ("DATETIME20.", "datetime"), ("E8601DT19.3", "datetime"),
    ("IS8601DT.", "datetime"), ("TIME8.", "time"), ("HHMM5.", "time"), ("8.2", None),
    ("BEST12.", None), ("$CHAR20.", None), ("", None), (None, None), ("DTDATE9.", "date")])
def test_format_kind(name, kind) -> None:
    assert format_kind(name) == kind


def test_text_values_and_version_8(tmp_path) -> None:
    frame = pd.DataFrame({"LONGVARIABLENAME": ["  lead", "trail   ", "", None],
                          "X": [1.0, 0.1, 1e20, 123456789.125]})
    labels = {"LONGVARIABLENAME": "A label longer than forty characters, allowed in v8"}
    text, meta = read_xpt(_write(tmp_path / "v8.xpt", frame, {}, version=8, labels=labels))
    assert list(text["LONGVARIABLENAME"]) == ["  lead", "trail", None, None]
    # whole numbers below 2**53 without ".0"; beyond, the shortest exact repr
    assert list(text["X"]) == ["1", "0.1", "1e+20", "123456789.125"]
    assert meta.version == 8 and meta.variable("LONGVARIABLENAME").label == labels[
        "LONGVARIABLENAME"]


@pytest.fixture
def sample(tmp_path) -> bytes:
    frame = pd.DataFrame({"S": [f"id{i:03d}" for i in range(60)], "X": np.arange(60.0)})
    return _write(tmp_path / "sample.xpt", frame, {}).read_bytes()


@pytest.mark.parametrize(("case", "expect"), [
    ("empty", "empty"), ("csv", "does not start with a library header"),
    ("zeros", "does not start with a library header"),
    ("cut-in-header", "no observation header"), ("cut-in-records", "ends inside record"),
    ("cut-on-80", "ends inside record"), ("two-members", "holds 2 datasets"),
    ("latin1", "not valid UTF-8")])
def test_damaged_files_give_a_clear_error(tmp_path, sample, case, expect) -> None:
    data = {
        "empty": b"", "csv": b"USUBJID,AGE\nA-1,30\n", "zeros": b"\0" * 800,
        "cut-in-header": sample[:400], "cut-in-records": sample[:-437],
        "cut-on-80": sample[:-400], "two-members": sample + sample[240:],
        "latin1": sample.replace(b"id007", b"id\xe907"),
    }[case]
    path = tmp_path / f"{case}.xpt"
    path.write_bytes(data)
    with pytest.raises(DataReadError) as err:
        read_table(path)
    assert str(path) in str(err.value) and expect in err.value.message
    if case == "latin1":
        assert (err.value.row, err.value.column) == (8, "S")


def test_latin1_file_reads_with_the_encoding_set(tmp_path, sample, monkeypatch) -> None:
    path = tmp_path / "latin1.xpt"
    path.write_bytes(sample.replace(b"id007", b"id\xe907"))
    monkeypatch.setenv("TRIALREPORT_XPT_ENCODING", "windows-1252")
    assert read_table(path).at[7, "S"] == "idé07"


def test_damaged_file_is_a_violation_not_a_traceback(tmp_path, capsys) -> None:
    from trialreport.cli import main
    from trialreport.spec.infer import write_specifications

    data = tmp_path / "data"
    write_sas_trial(data, n_subjects=12, seed=3, with_efficacy=False, with_tte=False)
    write_specifications(data, tmp_path / "spec")
    raw = (data / "adae.xpt").read_bytes()
    (data / "adae.xpt").write_bytes(raw[:len(raw) // 2])
    code = main(["validate", "--data", str(data), "--spec", str(tmp_path / "spec")])
    out = capsys.readouterr().out
    assert code == 1 and "adae.xpt" in out and "cut short" in out


def test_upper_case_file_names_are_found(tmp_path, sample) -> None:
    from trialreport.io.readers import find_data_file

    (tmp_path / "ADSL.XPT").write_bytes(sample)
    assert find_data_file(tmp_path, "adsl") == tmp_path / "ADSL.XPT"
    assert find_data_file(tmp_path, "adae") is None
