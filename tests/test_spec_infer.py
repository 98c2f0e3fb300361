"""Specifications inferred from shipped ADaM data (and define.xml) validate the same data clean,
take define.xml's word over the data's, and still catch a broken value."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat
import pytest
import yaml

from conftest import DATA
from trialreport.cli import main
from trialreport.demodata.sas_trial import RACES, write_sas_trial
from trialreport.io.meta import TableMeta, VariableMeta
from trialreport.io.readers import DataReadError
from trialreport.spec.infer import infer_dataset_spec, write_specifications
from trialreport.spec.model import load_specification
from trialreport.validation import validate_folder


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("infer") / "adam"
    write_sas_trial(folder, n_subjects=36, arms=3, seed=5)
    return folder


def _variables(spec_dir: Path, name: str) -> dict[str, dict]:
    raw = yaml.safe_load((spec_dir / f"{name}.yml").read_text(encoding="utf-8"))
    return {v["name"]: v for v in raw["variables"]}


def test_spec_from_data_and_define_validates_clean(trial, tmp_path, capsys) -> None:
    spec_dir = tmp_path / "spec"
    written = write_specifications(trial, spec_dir)
    assert [p.name for p in written] == ["adae.yml", "adeff.yml", "adsl.yml", "adtte.yml",
                                         "rules.yml"]
    code = main(["validate", "--data", str(trial), "--spec", str(spec_dir)])
    assert code == 0, capsys.readouterr().out
    spec = load_specification(spec_dir)
    assert list(spec.datasets) == ["ADSL", "ADAE", "ADEFF", "ADTTE"]  # ADSL first
    assert spec.dataset("ADSL").keys == ("STUDYID", "USUBJID")  # define.xml's KeySequence
    assert spec.dataset("ADAE").keys == ("STUDYID", "USUBJID", "AESEQ")
    assert spec.dataset("ADTTE").label == "Time-to-Event Analysis Dataset"
    adsl = _variables(spec_dir, "adsl")
    assert adsl["SEX"]["codelist"] == {"F": "Female", "M": "Male"}  # decodes from define.xml
    assert adsl["RACE"]["codelist"] == list(RACES)  # define's codelist, even codes not seen
    assert adsl["TRT01PN"]["codelist"] == {0: "Placebo", 25: "Veltrasib 25 mg",
                                           50: "Veltrasib 50 mg"}
    assert (adsl["TRTSDT"]["type"], adsl["TRTSDT"]["required"]) == ("date", False)
    assert (adsl["AGE"]["type"], adsl["BMIBL"]["type"]) == ("integer", "number")
    assert (adsl["USUBJID"]["length"], adsl["TRTSDT"]["format"]) == (19, "DATE9.")
    assert "codelist" not in adsl["USUBJID"]
    adae = _variables(spec_dir, "adae")
    assert "codelist" not in adae["AEDECOD"]  # MedDRA: an external dictionary
    assert "coded with MedDRA" in (spec_dir / "adae.yml").read_text(encoding="utf-8")
    rules = spec.cross_rules
    assert [(r.dataset, r.reference, r.type) for r in rules] == [
        ("ADAE", "ADSL", "foreign_key"), ("ADEFF", "ADSL", "foreign_key"),
        ("ADTTE", "ADSL", "foreign_key")]


def test_spec_from_data_alone_validates_clean(trial, tmp_path, capsys) -> None:
    data = tmp_path / "adam"
    shutil.copytree(trial, data)
    (data / "define.xml").unlink()
    spec_dir = tmp_path / "spec"
    write_specifications(data, spec_dir)
    code = main(["validate", "--data", str(data), "--spec", str(spec_dir)])
    assert code == 0, capsys.readouterr().out
    spec = load_specification(spec_dir)
    assert spec.dataset("ADSL").keys == ("USUBJID",)
    assert spec.dataset("ADAE").keys == ("USUBJID", "AESEQ")
    assert spec.dataset("ADEFF").keys == ("USUBJID", "PARAMCD", "AVISITN")
    adsl = _variables(spec_dir, "adsl")
    assert adsl["SAFFL"]["codelist"] == ["Y", "N"]
    assert adsl["SEX"]["codelist"] == ["F", "M"]
    assert "codelist" not in adsl["USUBJID"] and "codelist" not in adsl["SUBJID"]
    assert adsl["SEX"]["label"] == "Sex"  # the transport file's own label
    text = (spec_dir / "adsl.yml").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if "name: BMIBL" in x)
    assert "# " in line and "special missing .A" in line and ".B" in line


def test_inferred_spec_still_catches_a_broken_value(trial, tmp_path) -> None:
    data = tmp_path / "adam"
    shutil.copytree(trial, data)
    spec_dir = tmp_path / "spec"
    write_specifications(data, spec_dir)
    frame, meta = pyreadstat.read_xport(str(data / "adsl.xpt"),
                                        disable_datetime_conversion=True)
    frame.loc[2, "SEX"] = "X"
    formats = {k: v if "." in v else f"{v}." for k, v in meta.original_variable_types.items()
               if v}
    pyreadstat.write_xport(frame, str(data / "adsl.xpt"), table_name="ADSL",
                           file_format_version=5, variable_format=formats)
    report = validate_folder(data, spec_dir)
    found = [(v.dataset, v.rule, v.row, v.variable, v.value) for v in report.errors]
    assert ("ADSL", "codelist", 3, "SEX", "X") in found  # record 3 is row 3


def test_safety_only_delivery(tmp_path, capsys) -> None:
    data = tmp_path / "adam"
    paths = write_sas_trial(data, n_subjects=15, arms=2, seed=2, with_efficacy=False,
                            with_tte=False)
    assert sorted(p.name for p in paths) == ["adae.xpt", "adsl.xpt", "define.xml"]
    spec_dir = tmp_path / "spec"
    written = write_specifications(data, spec_dir)
    assert sorted(p.name for p in written) == ["adae.yml", "adsl.yml", "rules.yml"]
    assert main(["validate", "--data", str(data), "--spec", str(spec_dir)]) == 0, \
        capsys.readouterr().out
    assert len(load_specification(spec_dir).cross_rules) == 1


def test_types_from_csv_text() -> None:
    frame = pd.DataFrame({
        "USUBJID": ["S-1", "S-2", "S-3", "S-4"], "SUBJID": ["001", "002", "003", "004"],
        "AGE": ["30", "41", "0", "-2"], "WT": ["70.5", "80", "1e2", ".5"],
        "RANDDT": ["2021-01-31", "2021-02-28", None, "2020-02-29"],
        "BADDT": ["2021-02-30", "2021-01-01", "2021-01-01", "2021-01-01"],
        "EMPTY": [None, None, None, None], "ARM": ["A", "B", "A", "B"]},
        dtype=object)
    meta = TableMeta(file="/x/adsl.csv", file_format="csv",
                     variables=tuple(VariableMeta(name=c) for c in frame.columns))
    spec = infer_dataset_spec(frame, meta)
    types = {v["name"]: (v["type"], v["required"]) for v in spec["variables"]}
    assert types == {"USUBJID": ("string", True), "SUBJID": ("string", True),
                     "AGE": ("integer", True), "WT": ("number", True),
                     "RANDDT": ("date", False), "BADDT": ("string", True),
                     "EMPTY": ("string", False), "ARM": ("string", True)}
    assert (spec["dataset"], spec["file"], spec["keys"]) == ("ADSL", "adsl", ["USUBJID"])
    codelists = {v["name"]: v.get("codelist") for v in spec["variables"]}
    assert codelists["ARM"] == ["A", "B"] and codelists["USUBJID"] is None


def test_shipped_csv_data_gets_a_spec_that_validates_clean(tmp_path) -> None:
    spec_dir = tmp_path / "spec"
    write_specifications(DATA, spec_dir)
    report = validate_folder(DATA, spec_dir)
    assert report.ok, report.errors[:3]
    assert {p.stem for p in spec_dir.glob("*.yml")} >= {"adsl", "adae", "rules"}


def test_parquet_folder_gets_a_spec_that_validates_clean(tmp_path, capsys) -> None:
    data = tmp_path / "adam"
    data.mkdir()
    adsl = pa.table({"USUBJID": ["P-1", "P-2", "P-3", "P-4"], "AGE": [30, 40, 0, 51],
                     "SAFFL": ["Y", "Y", "N", "Y"],
                     "TRTSDT": pa.array([pd.Timestamp("2022-01-03").date(), None,
                                         pd.Timestamp("2022-02-01").date(),
                                         pd.Timestamp("2022-03-01").date()])})
    adae = pa.table({"USUBJID": ["P-1", "P-1", "P-4"], "AESEQ": [1, 2, 1],
                     "AESER": ["N", "Y", "N"]})
    pq.write_table(adsl, data / "adsl.parquet")
    pq.write_table(adae, data / "adae.parquet")
    spec_dir = tmp_path / "spec"
    write_specifications(data, spec_dir)
    assert main(["validate", "--data", str(data), "--spec", str(spec_dir)]) == 0, \
        capsys.readouterr().out
    adae = adae.set_column(0, "USUBJID", pa.array(["P-1", "P-1", "P-9"]))
    pq.write_table(adae, data / "adae.parquet")
    report = validate_folder(data, spec_dir)
    assert [(v.rule, v.row, v.value) for v in report.errors] == [("X-01", 3, "P-9")]


def test_nothing_is_written_when_a_file_is_damaged_or_exists(trial, tmp_path) -> None:
    data = tmp_path / "adam"
    shutil.copytree(trial, data)
    spec_dir = tmp_path / "spec"
    write_specifications(data, spec_dir)
    before = {p.name: p.read_bytes() for p in spec_dir.iterdir()}
    with pytest.raises(FileExistsError):
        write_specifications(data, spec_dir)
    (data / "adtte.xpt").write_bytes(b"not a transport file")
    with pytest.raises(DataReadError, match="adtte.xpt"):
        write_specifications(data, spec_dir, overwrite=True)
    assert {p.name: p.read_bytes() for p in spec_dir.iterdir()} == before  # untouched
    (data / "adtte.xpt").unlink()
    written = write_specifications(data, spec_dir, overwrite=True)
    assert "adtte.yml" not in {p.name for p in written}
