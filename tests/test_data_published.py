"""Every published ALEVIATE figure, computed straight from the validated records.

This is the data-level check (issue: foundation): counts are taken from the typed datasets with
plain pandas, independently of the analysis package; tests/test_analysis_published.py asserts the
same figures through the analysis functions the report uses.
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import fisher_exact

from conftest import DATA, SPEC
from trialreport.data import load_trial


@pytest.fixture(scope="module")
def trial():
    return load_trial(DATA, SPEC, SPEC / "study.yml")


@pytest.fixture(scope="module")
def treated(trial) -> pd.DataFrame:
    adsl = trial.adsl
    return adsl[adsl["SAFFL"] == "Y"]


def _visit(trial, paramcd: str, month: int) -> pd.DataFrame:
    eff = trial["adeff"]
    return eff[(eff["PARAMCD"] == paramcd) & (eff["AVISITN"] == month)]


def test_randomised_and_treated(trial, treated) -> None:
    assert (trial.adsl["RANDFL"] == "Y").sum() == 24
    assert len(treated) == 23
    never = trial.adsl[trial.adsl["SAFFL"] == "N"]
    assert len(never) == 1 and never["NCOURSE"].iloc[0] == 0


def test_diagnosis_split(treated) -> None:
    assert treated["DIAGGRP"].value_counts().to_dict() == {"AAV": 12, "BD": 11}


def test_age_and_sex(treated) -> None:
    assert treated["AGE"].median() == 40
    assert (treated["AGE"].min(), treated["AGE"].max()) == (28, 44)
    female = int((treated["SEX"] == "F").sum())
    assert female == 15 and round(100 * female / 23) == 65


def test_disease_duration(treated) -> None:
    q1, med, q3 = treated["DURDIS"].astype(float).quantile([0.25, 0.5, 0.75])
    assert (q1, med, q3) == (42, 61, 103)


def test_response_at_month_6(trial, treated) -> None:
    resp = _visit(trial, "RESP", 6).set_index("USUBJID")["AVALC"].reindex(treated["USUBJID"])
    counts = resp.value_counts().to_dict()
    assert counts["COMPLETE"] == 6 and round(100 * 6 / 23) == 26
    assert counts["PARTIAL"] == 10 and round(100 * 10 / 23) == 43
    assert counts["COMPLETE"] + counts["PARTIAL"] == 16 and round(100 * 16 / 23) == 70


def test_response_definition_holds_on_scores(trial) -> None:
    score = _visit(trial, "ACTSCORE", 6).set_index("USUBJID")
    resp = _visit(trial, "RESP", 6).set_index("USUBJID")["AVALC"]
    complete = score["AVAL"] == 0
    partial = (score["AVAL"] > 0) & (score["AVAL"] <= 0.5 * score["BASE"])
    assert (resp[complete] == "COMPLETE").all() and (resp[partial] == "PARTIAL").all()
    assert complete.sum() == 6 and partial.sum() == 10


def test_sustained_remission_to_month_12(trial, treated) -> None:
    eff = trial["adeff"]
    responders = set(_visit(trial, "RESP", 6).query("AVALC in ['COMPLETE', 'PARTIAL']")
                     ["USUBJID"])
    relapsed = set(eff[(eff["PARAMCD"] == "RELAPSE") & (eff["AVALC"] == "Y")
                       & (eff["AVISITN"] <= 12)]["USUBJID"])
    assessed_12 = set(_visit(trial, "RESP", 12)["USUBJID"])
    remission = (responders - relapsed) & assessed_12
    assert len(remission) == 8 and round(100 * 8 / 23) == 35


def test_serious_adverse_events(trial, treated) -> None:
    ae = trial["adae"]
    sae = ae[ae["AESER"] == "Y"]
    assert len(sae) == 10
    assert sae["USUBJID"].nunique() == 7 and round(100 * 7 / 23) == 30
    assert (sae["AEREL"] == "RELATED").sum() == 4
    assert set(sae["USUBJID"]) <= set(treated["USUBJID"])


def test_no_difference_between_arms(trial, treated) -> None:
    arm = treated.set_index("USUBJID")["TRT01A"]
    resp6 = _visit(trial, "RESP", 6).set_index("USUBJID")["AVALC"].reindex(arm.index)
    sae_subjects = set(trial["adae"].query("AESER == 'Y'")["USUBJID"])
    endpoints = {
        "complete": resp6 == "COMPLETE",
        "partial": resp6 == "PARTIAL",
        "any": resp6.isin(["COMPLETE", "PARTIAL"]),
        "sae": arm.index.isin(list(sae_subjects)),
    }
    for name, hit in endpoints.items():
        hit = pd.Series(hit, index=arm.index)
        table = [[int(hit[arm == a].sum()), int((~hit[arm == a]).sum())]
                 for a in ("Alemtuzumab 60 mg", "Alemtuzumab 30 mg")]
        assert fisher_exact(table).pvalue > 0.5, name


def test_dosing_and_eligibility(trial, treated) -> None:
    ex = trial["adex"]
    assert ex.groupby("USUBJID", observed=True).size().max() <= 3
    assert set(ex["AVISIT"]) <= {"Baseline", "Month 3", "Month 6"}
    assert (ex["PREMED"] == "METHYLPREDNISOLONE 500 MG").all()
    assert ex["EXDOSE"].isin([60, 30]).all()
    adsl = trial.adsl
    assert adsl["AGE"].between(18, 60).all() and (adsl["CREATBL"] <= 150).all()
    prior = adsl.groupby("DIAGGRP", observed=True)["PRIORTRT"].agg(set).to_dict()
    assert prior["AAV"] <= {"CYCLOPHOSPHAMIDE", "RITUXIMAB"} and prior["BD"] == {"ANTI-TNF"}


def test_screening_log_feeds_consort(trial) -> None:
    scr = trial["screening"]
    assert len(scr) >= 24 and (scr["RANDFL"] == "Y").sum() == 24
    assert set(scr.loc[scr["RANDFL"] == "Y", "USUBJID"]) == set(trial.adsl["USUBJID"])
    assert scr.loc[scr["RANDFL"] == "N", "EXCLREAS"].notna().all()
