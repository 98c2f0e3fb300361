"""ARD serialisation (JSON and CSV round trips), determinism, contract checks and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, SPEC
from trialreport.ard import ARD, COLUMNS, KEY, build_ard, build_ard_from_paths
from trialreport.cli import main
from trialreport.data import load_trial

STUDY = SPEC / "study.yml"


@pytest.fixture(scope="module")
def ard() -> ARD:
    return build_ard_from_paths(DATA, SPEC, STUDY)


def test_frame_follows_the_contract(ard) -> None:
    f = ard.frame
    assert tuple(f.columns) == COLUMNS
    assert f["value"].dtype == np.float64
    assert not f.duplicated(list(KEY)).any()
    assert ard.problems() == []
    # the big N rows, then each output of the study definition in its order
    outputs = [name for name, o in ard.outputs.items() if o["type"] not in
               ("swimmer", "ae_listing")]  # records, not results: no rows
    assert list(dict.fromkeys(f["analysis"])) == ["population", *outputs]
    assert ard.outputs["efficacy"] == {"number": "14.2.1", "type": "binary_endpoints",
                                       "kind": "table", "title": (
                                           "Response at month 6 and sustained remission to "
                                           "month 12 by dose"), "population": "FAS"}


def test_metadata_records_inputs_and_versions(ard) -> None:
    import hashlib

    meta = ard.metadata
    assert meta["study_id"] == "ALEVIATE"
    assert set(meta["inputs"]) == {"adsl", "adae", "adeff", "adtte", "adex", "screening"}
    sha = hashlib.sha256((DATA / "adsl.csv").read_bytes()).hexdigest()
    assert meta["inputs"]["adsl"] == {"file": "adsl.csv", "sha256": sha}
    assert meta["study_definition"]["sha256"] == hashlib.sha256(STUDY.read_bytes()).hexdigest()
    assert {"pandas", "numpy", "scipy", "lifelines", "trialreport"} <= set(meta["packages"])
    assert meta["version_stamp"].startswith("ALEVIATE ARD")
    assert meta["total_label"] == "Total"
    assert meta["report_version"] == "1.1.0"


def test_json_round_trip(ard, tmp_path) -> None:
    path = tmp_path / "ard.json"
    text = ard.to_json(path)
    assert path.read_text(encoding="utf-8") == text
    obj = json.loads(text)
    assert len(obj["results"]) == len(ard.frame)
    back = ARD.from_json(path)
    assert back.equals(ard)
    assert ARD.from_json(text).equals(ard)
    # NaN (not estimable) is JSON null and comes back as NaN
    nan_rows = ard.frame["value"].isna()
    assert nan_rows.any()
    assert all(r["value"] is None for r, isnan in zip(obj["results"], nan_rows, strict=True)
               if isnan)


def test_csv_round_trip_is_exact(ard, tmp_path) -> None:
    path = tmp_path / "ard.csv"
    ard.to_csv(path)
    back = ARD.from_csv(path)
    assert back.frame.equals(ard.frame)  # bit-identical floats, "" categories kept
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(raw.columns) == list(COLUMNS)
    assert (raw["category"] == "").sum() == (ard.frame["category"] == "").sum()


def test_two_builds_are_identical() -> None:
    data = load_trial(DATA, SPEC, STUDY)
    first, second = build_ard(data), build_ard(load_trial(DATA, SPEC, STUDY))
    assert first.equals(second)
    assert first.to_json() == second.to_json()
    assert first.to_csv() == second.to_csv()


def test_get_and_select(ard) -> None:
    assert ard.get("population", "N", "n", population="FAS") == 23
    with pytest.raises(KeyError):
        ard.get("population", "N", "n")  # three populations match
    comparison = "Alemtuzumab 60 mg vs Alemtuzumab 30 mg"
    assert len(ard.select("efficacy", "RESP6", group=comparison)) == 4


def test_contract_violations_are_listed(ard) -> None:
    frame = pd.concat([ard.frame, ard.frame.iloc[[0]]], ignore_index=True)
    frame.loc[len(frame) - 1, "analysis"] = "population"
    bad = ARD(frame, ard.metadata)
    problems = bad.problems()
    assert any("key not unique" in p for p in problems)
    frame2 = ard.frame.copy()
    frame2.loc[0, "analysis"] = "nonsense"
    assert any("neither 'population' nor an output" in p
               for p in ARD(frame2, ard.metadata).problems())


def test_cli_writes_json_and_csv(tmp_path, capsys) -> None:
    out = tmp_path / "ard.json"
    assert main(["ard", "--data", str(DATA), "--spec", str(SPEC), "--study", str(STUDY),
                 "--out", str(out)]) == 0
    assert ARD.from_json(out).get("efficacy", "RESP6", "n") == 16
    out_csv = tmp_path / "ard.csv"
    assert main(["ard", "--data", str(DATA), "--out", str(out_csv)]) == 0
    assert ARD.from_csv(out_csv).get("efficacy", "RESP6", "n") == 16
    assert "wrote" in capsys.readouterr().out


def test_cli_usage_errors(tmp_path, capsys) -> None:
    assert main(["ard", "--out", str(tmp_path / "ard.txt")]) == 2
    assert main(["ard", "--data", str(tmp_path / "missing"), "--out",
                 str(tmp_path / "a.json")]) == 2
    assert main(["ard"]) == 2  # --out is required
    assert not (tmp_path / "a.json").exists()


def test_cli_validation_failure(data_copy, tmp_path, capsys) -> None:
    adsl = data_copy / "adsl.csv"
    text = adsl.read_text(encoding="utf-8").splitlines()
    header = text[0].split(",")
    row = text[1].split(",")
    row[header.index("AGE")] = "200"  # outside the specified range
    text[1] = ",".join(row)
    adsl.write_text("\n".join(text) + "\n", encoding="utf-8")
    out = tmp_path / "ard.json"
    assert main(["ard", "--data", str(data_copy), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "AGE" in err and "validation error" in err
    assert not out.exists()
