"""CONSORT 2010 flow: counts per stage from the screening log and ADSL, conserved stage to stage."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from conftest import DATA, SPEC, STUDY_FILE, study_with, synthetic_study
from trialreport.ard import ARD, build_ard
from trialreport.data import load_trial, trial_from_frames
from trialreport.demodata.synthetic import make_synthetic_trial
from trialreport.families.disposition import (
    ArmFlow,
    ConsortConservationError,
    ConsortFlow,
    compute,
    consort_flow,
)

ARM60, ARM30 = "Alemtuzumab 60 mg", "Alemtuzumab 30 mg"


def _counts(values: pd.Series) -> dict[str, int]:
    """Records per value present (text columns are categoricals: unused codes are left out)."""
    counts = values.astype(object).value_counts()
    return {str(k): int(v) for k, v in counts.items()}


@pytest.fixture(scope="module")
def trial():
    return load_trial(DATA, SPEC, STUDY_FILE)


@pytest.fixture(scope="module")
def flow(trial) -> ConsortFlow:
    return consort_flow(trial, trial.study.output("consort"))


def test_screening_stages_match_the_log(trial, flow) -> None:
    scr = trial["screening"]
    assert flow.assessed == len(scr) == 31
    excluded = scr[scr["RANDFL"] == "N"]
    assert flow.excluded == len(excluded) == 7
    assert flow.excluded_reasons == _counts(excluded["EXCLREAS"])
    assert flow.excluded_reasons == {"NOT MEETING INCLUSION CRITERIA": 4,
                                     "DECLINED TO PARTICIPATE": 2, "OTHER REASONS": 1}


def test_arm_stages_match_adsl(trial, flow) -> None:
    adsl = trial.adsl
    assert flow.randomised == int((adsl["RANDFL"] == "Y").sum()) == 24
    arms = {a.code: a for a in flow.arms}
    assert [a.code for a in flow.arms] == [ARM60, ARM30]
    for code, arm in arms.items():
        rows = adsl[(adsl["RANDFL"] == "Y") & (adsl["TRT01P"] == code)]
        treated = rows[rows["SAFFL"] == "Y"]
        assert arm.allocated == len(rows)
        assert arm.received == len(treated)
        assert arm.completed == int((treated["EOSSTT"] == "COMPLETED").sum())
        assert arm.discontinued_reasons == treated.loc[
            treated["EOSSTT"] == "DISCONTINUED", "DCSREAS"].pipe(_counts)
        assert arm.analysed == int((rows["FASFL"] == "Y").sum())
    assert (arms[ARM60].allocated, arms[ARM30].allocated) == (12, 12)
    assert (arms[ARM60].received, arms[ARM30].received) == (12, 11)
    assert arms[ARM60].not_received == 0 and arms[ARM60].not_received_reasons == {}
    assert arms[ARM30].not_received_reasons == {"WITHDRAWAL BY SUBJECT": 1}
    assert arms[ARM60].discontinued_reasons == {"LACK OF EFFICACY": 1}
    assert arms[ARM30].discontinued_reasons == {"PHYSICIAN DECISION": 1}
    assert (arms[ARM60].completed, arms[ARM30].completed) == (11, 10)
    assert (arms[ARM60].analysed, arms[ARM30].analysed) == (12, 11)
    assert arms[ARM30].excluded_reasons == {"DID NOT RECEIVE ALLOCATED INTERVENTION": 1}
    assert arms[ARM30].label == "30 mg"


def test_counts_are_conserved(flow) -> None:
    assert flow.problems() == []
    flow.check_conservation()
    assert flow.assessed == flow.excluded + flow.randomised
    for arm in flow.arms:
        assert arm.allocated == arm.received + arm.not_received
        assert arm.received == arm.completed + arm.discontinued
        assert arm.allocated == arm.analysed + arm.excluded_from_analysis


def test_ard_rows_and_flow_agree(trial, flow) -> None:
    ard = build_ard(trial)
    assert ConsortFlow.from_ard(ard, trial.study, "consort") == flow
    assert ConsortFlow.from_ard(ard, trial.study, "disposition") == flow
    rows = ard.select("consort")
    assert set(rows["statistic"]) == {"n", "N"}
    assert set(rows.loc[rows["variable"].isin(["assessed", "excluded"]), "population"]) == {""}
    assert set(rows.loc[~rows["variable"].isin(["assessed", "excluded"]), "population"]) == {
        "RAND"}
    assert ard.get("consort", "", "N") == 24  # the flow's own big N: the randomised
    assert ard.get("consort", "received", "n") == 23
    assert ard.get("consort", "not_received", "n", ARM30, "WITHDRAWAL BY SUBJECT") == 1
    # every stage has a Total equal to the sum over arms
    for stage in ("allocated", "received", "not_received", "completed", "discontinued",
                  "analysed", "excluded_from_analysis"):
        per_arm = sum(ard.get("consort", stage, "n", a) for a in (ARM60, ARM30))
        assert ard.get("consort", stage, "n") == per_arm


def _arm() -> ArmFlow:
    return ArmFlow(code="A", label="A", allocated=10, received=10, not_received=0,
                   completed=10, analysed=10)


def test_broken_flow_is_reported() -> None:
    arm = dataclasses.replace(_arm(), received=5)
    flow = ConsortFlow(randomised=10, arms=(arm,), assessed=12, excluded=1,
                       excluded_reasons={"DECLINED TO PARTICIPATE": 1})
    problems = flow.problems()
    assert any("assessed 12 != excluded 1 + randomised 10" in p for p in problems)
    assert any("allocated 10 != received 5 + not received 0" in p for p in problems)
    with pytest.raises(ConsortConservationError):
        flow.check_conservation()


def test_screening_log_out_of_step_with_adsl_breaks_conservation(trial) -> None:
    """The flow is checked when it is computed: a report with broken counts is never made."""
    scr = trial["screening"]
    drop = scr.index[scr["RANDFL"] == "Y"][0]
    frames = {**trial.frames, "screening": scr.drop(index=drop)}
    with pytest.raises(ConsortConservationError, match="assessed 30"):
        consort_flow(trial_from_frames(trial.study, frames, codelists=trial.codelists),
                     trial.study.output("consort"))


def test_without_screening_log_the_flow_starts_at_randomisation(trial) -> None:
    disposition = trial.study.model.disposition.model_dump(exclude_none=True)
    disposition.pop("screening")
    study = study_with(trial.study, disposition=disposition)
    frames = {k: v for k, v in trial.frames.items() if k != "screening"}
    flow = consort_flow(trial_from_frames(study, frames, codelists=trial.codelists),
                        study.output("consort"))
    assert flow.assessed is None and flow.excluded is None and flow.randomised == 24
    flow.check_conservation()


def test_large_three_arm_trial_is_conserved() -> None:
    _, frames = make_synthetic_trial(5000, 1000, arms=3, seed=7)
    study = synthetic_study(3)
    data = trial_from_frames(study, frames)
    flow = consort_flow(data, study.output("consort"))
    flow.check_conservation()
    adsl, scr = frames["adsl"], frames["screening"]
    assert flow.assessed == len(scr)
    assert flow.randomised == 5000
    for arm in flow.arms:
        rows = adsl[adsl["TRTP"] == arm.code]
        assert arm.allocated == len(rows)
        assert arm.received == int((rows["SAFFL"] == "Y").sum())
        assert arm.analysed == int((rows["MITTFL"] == "Y").sum())
        dc = rows[(rows["SAFFL"] == "Y") & (rows["EOSSTT"] == "DISCONTINUED")]
        assert arm.discontinued_reasons == _counts(dc["DCSREAS"])
    frame = compute(data, study.output("consort"))
    assert not frame.duplicated(["group", "variable", "category", "statistic"]).any()
    assert ARD(frame, {"outputs": {"consort": {}}}).problems() == []


def test_reason_order_is_by_count_then_name(trial) -> None:
    rows = compute(trial, trial.study.output("consort"))
    excl = rows[(rows["variable"] == "excluded") & (rows["category"] != "")]
    assert list(excl["category"]) == ["NOT MEETING INCLUSION CRITERIA",
                                      "DECLINED TO PARTICIPATE", "OTHER REASONS"]
    assert isinstance(rows, pd.DataFrame)
