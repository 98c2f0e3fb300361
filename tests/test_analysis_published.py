"""Every published ALEVIATE figure through the analysis functions and the prose numbers.

Gopaluni et al., Arthritis Res Ther 2022;24:81: 24 randomised, 23 treated (12 AAV, 11 BD);
median age 40 (range 28-44); 15/23 female (65%); disease duration median 61 months (IQR
42-103); response at month 6 16/23 (70%): complete 6/23 (26%), partial 10/23 (44%, see
``test_partial_response``); sustained remission to month 12 8/23 (35%); 10 serious adverse
events in 7/23 patients (30%), 4 related; no dose difference. The data-level twin of this file
is tests/test_data_published.py (plain pandas on the records).
"""

from __future__ import annotations

import pytest

from conftest import DATA, SPEC
from trialreport.ard import build_ard
from trialreport.data import load_trial
from trialreport.families.binary import responder_flags
from trialreport.families.listings import ae_listing
from trialreport.families.profiles import swimmer_data
from trialreport.families.time_to_event import km_curves
from trialreport.prose import Numbers

ENDPOINTS = ("CR6", "PR6", "RESP6", "REM12")
COMPARISON = "Alemtuzumab 60 mg vs Alemtuzumab 30 mg"


@pytest.fixture(scope="module")
def trial():
    return load_trial(DATA, SPEC, SPEC / "study.yml")


@pytest.fixture(scope="module")
def ard(trial):
    return build_ard(trial)


@pytest.fixture(scope="module")
def n(ard, trial) -> Numbers:
    return Numbers(ard, trial.study)


def test_randomised_and_treated(ard, n) -> None:
    assert ard.get("population", "N", "n", population="RAND") == 24
    assert ard.get("population", "N", "n", population="FAS") == 23
    assert ard.get("population", "N", "n", population="SAF") == 23
    assert ard.get("consort", "randomised", "n") == 24
    assert ard.get("consort", "received", "n") == 23
    assert ard.get("efficacy", "", "N") == 23  # the efficacy table's own analysed N
    assert (n.big_n("RAND"), n.big_n("FAS"), n.big_n("SAF")) == (24, 23, 23)
    assert (n.big_n("FAS", "60 mg"), n.big_n("FAS", "30 mg")) == (12, 11)


def test_diagnosis_groups(ard, n) -> None:
    assert ard.get("baseline", "DIAGGRP", "n", category="AAV") == 12
    assert ard.get("baseline", "DIAGGRP", "n", category="BD") == 11
    assert n.level("DIAGGRP", "AAV") == "12/23 (52%)"
    assert n.level("DIAGGRP", "BD") == "11/23 (48%)"


def test_age(ard, n) -> None:
    assert ard.get("baseline", "AGE", "median") == 40
    assert (ard.get("baseline", "AGE", "min"), ard.get("baseline", "AGE", "max")) == (28, 44)
    assert ard.get("baseline", "AGE", "n") == 23
    assert ard.get("baseline", "AGE", "precision") == 0  # whole years in the data
    # the median one decimal beyond the data's precision, the range at it
    assert n.median_range("AGE") == "40.0 (range 28 to 44)"


def test_sex(ard, n) -> None:
    assert ard.get("baseline", "SEX", "n", category="F") == 15
    assert ard.get("baseline", "SEX", "N", category="F") == 23
    assert ard.get("baseline", "SEX", "pct", category="F") == pytest.approx(100 * 15 / 23)
    assert n.level("SEX", "F") == "15/23 (65%)"


def test_disease_duration(ard, n) -> None:
    assert ard.get("baseline", "DURDIS", "median") == 61
    assert ard.get("baseline", "DURDIS", "q1") == 42
    assert ard.get("baseline", "DURDIS", "q3") == 103
    assert n.median_iqr("DURDIS") == "61.0 (IQR 42.0 to 103.0)"


@pytest.mark.parametrize(("endpoint", "count", "text"), [
    ("RESP6", 16, "16/23 (70%)"),
    ("CR6", 6, "6/23 (26%)"),
    ("REM12", 8, "8/23 (35%)"),
])
def test_binary_endpoints(ard, n, endpoint, count, text) -> None:
    assert ard.get("efficacy", endpoint, "n") == count
    assert ard.get("efficacy", endpoint, "N") == 23
    assert ard.get("efficacy", endpoint, "estimate") == pytest.approx(count / 23)
    assert n.response(endpoint) == text


def test_partial_response(ard, n) -> None:
    """10/23 partial responders. The paper prints 44%, which is 70% - 26% (the difference of
    the two rounded percentages); 10/23 itself is 43.5%, shown as 43%."""
    assert ard.get("efficacy", "PR6", "n") == 10
    assert ard.get("efficacy", "PR6", "N") == 23
    assert ard.get("efficacy", "PR6", "n") + ard.get("efficacy", "CR6", "n") == ard.get(
        "efficacy", "RESP6", "n")
    assert n.response("PR6") == "10/23 (43%)"
    published = 44
    assert published == int(n.pct("RESP6")[:-1]) - int(n.pct("CR6")[:-1])


def test_responders_are_the_records(trial) -> None:
    """The RESP6 responders are exactly the FAS patients with a month-6 RESP record of
    COMPLETE or PARTIAL."""
    eff = trial["adeff"]
    expected = set(eff.loc[(eff["PARAMCD"] == "RESP") & (eff["AVISITN"] == 6)
                           & eff["AVALC"].isin(["COMPLETE", "PARTIAL"]), "USUBJID"])
    flags = responder_flags(trial, "RESP6")
    assert set(flags.loc[flags["responder"], "subject"]) == expected
    assert len(flags) == 23


def test_serious_adverse_events(ard, n, trial) -> None:
    assert ard.get("ae_overview", "ANY_SAE", "events") == 10
    assert ard.get("ae_overview", "ANY_SAE", "subjects") == 7
    assert ard.get("ae_overview", "ANY_SAE", "pct") == pytest.approx(100 * 7 / 23)
    assert ard.get("ae_overview", "RELATED_SAE", "events") == 4
    assert ard.get("sae_soc_pt", "ANY", "events") == 10
    assert ard.get("sae_soc_pt", "ANY", "subjects") == 7
    assert n.sae_events() == 10
    assert n.sae_patients() == "7/23 (30%)"
    assert n.sae_related_events() == 4
    listing = ae_listing(trial, trial.study.output("sae_listing"))
    assert len(listing) == 10
    assert (listing["relatedness"] == "RELATED").sum() == 4
    assert listing["subject"].nunique() == 7


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_no_dose_difference(ard, n, endpoint) -> None:
    p = ard.get("efficacy", endpoint, "pvalue", COMPARISON)
    assert p > 0.5
    assert ard.method("efficacy", endpoint, "pvalue", COMPARISON) == (
        "Fisher's exact test (two-sided)")
    assert n.p_response(endpoint) == "p = 1.000"


def test_response_by_arm(ard, n) -> None:
    assert n.response("RESP6", "60 mg") == "8/12 (67%)"
    assert n.response("RESP6", "30 mg") == "8/11 (73%)"
    assert ard.get("efficacy", "RESP6", "estimate", COMPARISON) == pytest.approx(8 / 12 - 8 / 11)
    assert n.difference("RESP6").replace("\u2212", "-") == (
        "-6 percentage points (95% CI -39 to 29)")
    assert n.response_ci("RESP6") == "70% (95% CI 47% to 87%)"


def test_relapse_among_responders(ard, n, trial) -> None:
    """Landmark analysis from month 6 of the 16 responders at month 6: 8 relapses (4 per arm),
    none before month 6, so half are free of relapse 6 months after the landmark."""
    assert ard.get("time_to_relapse", "TTRELAPS", "n") == 16
    assert ard.get("time_to_relapse", "", "N") == 16  # the sub-population's own big N
    assert ard.get("time_to_relapse", "", "N", "Alemtuzumab 60 mg") == 8
    assert ard.get("time_to_relapse", "TTRELAPS", "events") == 8
    assert n.events("TTRELAPS") == 8
    curves = km_curves(trial, "TTRELAPS")
    assert set(curves["group"]) == {"Alemtuzumab 60 mg", "Alemtuzumab 30 mg"}
    assert curves.groupby("group")["events"].sum().to_dict() == {
        "Alemtuzumab 60 mg": 4, "Alemtuzumab 30 mg": 4}
    assert ard.get("time_to_relapse", "TTRELAPS", "surv", category="6") == pytest.approx(0.5)
    assert n.survival_at("TTRELAPS", 6) == "50% (95% CI 25% to 71%)"


def test_swimmer_lanes(trial) -> None:
    sd = swimmer_data(trial)
    assert len(sd.lanes) == 23
    ev = sd.events
    assert (ev["event"] == "course").sum() == int(trial.adsl["NCOURSE"].sum()) == 48
    assert (ev["event"] == "relapse").sum() == 8
    assert (ev["event"] == "sae").sum() == 10
    assert sd.lanes["discontinued"].sum() == 2
    assert sd.horizon_months == 12
