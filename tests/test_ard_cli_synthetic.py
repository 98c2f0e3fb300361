"""``trialreport ard`` at the command line on a 5,000-subject three-arm synthetic trial.

The trial is written to disk like a real study (CSV data, a hand-written data specification
with rules, a study definition with numbered outputs), validated by ``trialreport validate``
and analysed by ``trialreport ard`` without any code knowing it. Every expected value is
recomputed from the CSV files with plain pandas; the package's reader is not used for that.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from trialreport.ard import ARD
from trialreport.cli import main
from trialreport.demodata.synthetic import write_synthetic_trial
from trialreport.spec.model import load_specification
from trialreport.study import load_study

N_SUBJECTS = 5000
ARMS = ["Placebo", "Zelvimab 50 mg", "Zelvimab 100 mg"]
TOTAL = "All patients"
POPULATIONS = {"ITT": ("ITTFL", "TRTP"), "MITT": ("MITTFL", "TRTP"),
               "SAFETY": ("SAFFL", "TRTA"), "PP": ("PPROTFL", "TRTP")}
DATASETS = ("screening", "adsl", "adrs", "adtte", "adae")


def _run(*argv: str) -> tuple[int, str, str]:
    """``trialreport *argv``: (exit status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def _paths(trial: dict[str, Path], data: Path | None = None) -> list[str]:
    return ["--data", str(data or trial["data"]), "--spec", str(trial["spec"]),
            "--study", str(trial["study"])]


@pytest.fixture(scope="module")
def trial(tmp_path_factory) -> dict[str, Path]:
    return write_synthetic_trial(tmp_path_factory.mktemp("synthetic"), n_subjects=N_SUBJECTS,
                                 arms=3, seed=5)


@pytest.fixture(scope="module")
def records(trial) -> dict[str, pd.DataFrame]:
    """The CSV files read with plain pandas ("NA", North America, is a value)."""
    return {stem: pd.read_csv(trial["data"] / f"{stem}.csv", dtype=str, keep_default_na=False,
                              na_values=[""]) for stem in DATASETS}


@pytest.fixture(scope="module")
def ard_json(trial) -> ARD:
    out = trial["data"].parent / "out" / "ard.json"
    status, stdout, stderr = _run("ard", *_paths(trial), "--out", str(out))
    assert status == 0, stderr
    assert f"wrote {out}" in stdout
    return ARD.from_json(out)


def _population(adsl: pd.DataFrame, code: str) -> pd.DataFrame:
    flag, arm_variable = POPULATIONS[code]
    return adsl[adsl[flag] == "Y"].assign(ARM=lambda f: f[arm_variable])


# -- the files -----------------------------------------------------------------------------------


def test_files_are_a_real_study(trial, records) -> None:
    assert len(records["adsl"]) == N_SUBJECTS
    for stem in DATASETS:
        raw = (trial["data"] / f"{stem}.csv").read_bytes()
        assert b"\r" not in raw and raw.decode("utf-8")
    spec = load_specification(trial["spec"])
    assert sorted(ds.file for ds in spec.datasets.values()) == sorted(DATASETS)
    for ds in spec.datasets.values():
        assert ds.keys, ds.name
        assert ds.rules or ds.windows or ds.name == "ADTTE", ds.name  # ADTTE: rules.yml only
        assert ds.names == list(records[ds.file].columns)
        for v in ds.variables:
            assert v.label and v.type in ("string", "integer", "number", "date")
            if v.type in ("integer", "number"):
                assert v.range or v.codelist, f"{ds.name}.{v.name} has no range or codelist"
    adsl = spec.dataset("ADSL")
    assert adsl.variable("SEX").codelist == {"F": "Female", "M": "Male"}
    assert adsl.variable("TRTP").codes == ARMS
    fk = {r.dataset for r in spec.cross_rules if r.type == "foreign_key" and
          r.reference == "ADSL"}
    assert fk >= {"ADRS", "ADTTE", "ADAE"}
    assert any(r.type == "expression" and r.join is not None for r in spec.cross_rules)
    study = load_study(trial["study"])
    assert [a.code for a in study.arms] == ARMS
    assert all(re.fullmatch(r"14\.\d\.\d", o.id) for o in study.outputs.values())
    assert yaml.safe_load(trial["study"].read_text(encoding="utf-8"))["study"][
        "synthetic_notice"]


def test_validate_exits_0(trial) -> None:
    status, stdout, _ = _run("validate", "--data", str(trial["data"]), "--spec",
                             str(trial["spec"]))
    assert status == 0
    assert "all datasets conform to the specification" in stdout


# -- the ARD against the records -------------------------------------------------------------------


def test_every_arm_and_the_total_appear(ard_json) -> None:
    assert ard_json.metadata["study_id"] == "SYNTH-001"
    assert ard_json.problems() == []
    for analysis in ("population", "baseline", "efficacy", "tte", "ae_overview"):
        groups = set(ard_json.select(analysis)["group"])
        assert groups >= {*ARMS, TOTAL}, analysis


def test_big_n_per_arm_for_each_population(ard_json, records) -> None:
    for code in POPULATIONS:
        pop = _population(records["adsl"], code)
        for arm in ARMS:
            assert ard_json.get("population", "N", "n", arm, population=code) == (
                pop["ARM"] == arm).sum()
        assert ard_json.get("population", "N", "n", TOTAL, population=code) == len(pop)
    assert ard_json.get("population", "N", "n", TOTAL, population="ITT") == N_SUBJECTS


def test_response_at_week_24_per_arm(ard_json, records) -> None:
    mitt = _population(records["adsl"], "MITT")
    rs = records["adrs"]
    responders = set(rs.loc[(rs["PARAMCD"] == "RESPONSE") & (rs["AVISITN"] == "24")
                            & (rs["AVALC"] == "Y"), "USUBJID"])
    counts = mitt.assign(R=mitt["USUBJID"].isin(responders)).groupby("ARM")["R"].agg(
        ["sum", "size"])
    for arm in ARMS:
        n, big_n = int(counts.loc[arm, "sum"]), int(counts.loc[arm, "size"])
        assert 0 < n < big_n
        assert ard_json.get("efficacy", "RESP24", "n", arm) == n
        assert ard_json.get("efficacy", "RESP24", "N", arm) == big_n
        assert ard_json.get("efficacy", "RESP24", "pct", arm) == pytest.approx(100 * n / big_n)
    assert ard_json.get("efficacy", "RESP24", "n", TOTAL) == counts["sum"].sum()


def test_subjects_with_a_serious_adverse_event_per_arm(ard_json, records) -> None:
    saf = _population(records["adsl"], "SAFETY")[["USUBJID", "ARM"]]
    ae = records["adae"]
    sae = ae[(ae["TRTEMFL"] == "Y") & (ae["AESER"] == "Y")].merge(saf, on="USUBJID")
    subjects = sae.groupby("ARM")["USUBJID"].nunique()
    for arm in ARMS:
        assert ard_json.get("ae_overview", "ANY_SAE", "subjects", arm) == subjects[arm]
        assert ard_json.get("ae_overview", "ANY_SAE", "events", arm) == (sae["ARM"] == arm).sum()
    assert ard_json.get("ae_overview", "ANY_SAE", "subjects", TOTAL) == sae["USUBJID"].nunique()


def test_baseline_medians(ard_json, records) -> None:
    itt = _population(records["adsl"], "ITT")
    for variable in ("AGE", "WEIGHT"):
        values = pd.to_numeric(itt[variable])
        for arm in ARMS:
            expected = values[itt["ARM"] == arm].median()
            assert ard_json.get("baseline", variable, "median", arm) == pytest.approx(expected)
        assert ard_json.get("baseline", variable, "median", TOTAL) == pytest.approx(
            values.median())
    assert ard_json.get("baseline", "WEIGHT", "nmiss", TOTAL) == itt["WEIGHT"].isna().sum() > 0


def test_csv_output_holds_the_same_results(trial, ard_json) -> None:
    out = trial["data"].parent / "out" / "ard.csv"
    status, _, stderr = _run("ard", *_paths(trial), "--out", str(out))
    assert status == 0, stderr
    assert out.read_text(encoding="utf-8").startswith(
        "analysis,population,group,variable,category,statistic,value,method\n")
    assert ARD.from_csv(out).frame.equals(ard_json.frame)


def test_tables_build_from_the_synthetic_ard(trial, ard_json) -> None:
    from trialreport.tables import build_output, to_html

    study = load_study(trial["study"])
    for name in ("baseline", "efficacy", "tte", "ae_overview", "sae_soc_pt", "teae_soc_pt",
                 "teae_severity", "disposition", "analysis_sets"):
        assert study.output(name).caption in to_html(build_output(study, name, ard_json))


# -- broken data ---------------------------------------------------------------------------------


def test_unknown_subject_in_the_adverse_events_stops_ard(trial, tmp_path) -> None:
    data = tmp_path / "data"
    shutil.copytree(trial["data"], data)
    path = data / "adae.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    record = 1000  # lines[0] is the header (row 1), so lines[1000] is row 1001
    subject = lines[record].split(",")[1]
    lines[record] = lines[record].replace(subject, "SYN-999999", 1)
    path.write_text("\n".join(lines), encoding="utf-8", newline="\n")
    out = tmp_path / "ard.json"

    status, _, stderr = _run("ard", *_paths(trial, data), "--out", str(out))
    assert status == 1
    assert not out.exists()
    assert "no ARD written" in stderr
    assert (f"adae.csv, row {record + 1}, column USUBJID [SYN-999999]: USUBJID SYN-999999 has no "
            "record in ADSL") in stderr
    assert "[X-05]" in stderr

    status, stdout, _ = _run("validate", "--data", str(data), "--spec", str(trial["spec"]))
    assert status == 1
    assert "SYN-999999" in stdout
