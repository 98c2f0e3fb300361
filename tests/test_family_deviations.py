"""A family added as one module (protocol deviations) works on a trial through the registry:
its counts equal a plain pandas computation, and its table carries the shared CSR layout."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import DATA, SPEC, STUDY_FILE, study_with
from trialreport.ard import build_ard
from trialreport.data import load_trial, trial_from_frames
from trialreport.outputs import output_types
from trialreport.study import StudyDefinitionError
from trialreport.tables import build_output, to_html


@pytest.fixture(scope="module")
def trial_with_deviations():
    trial = load_trial(DATA, SPEC, STUDY_FILE)
    rng = np.random.default_rng(3)
    subjects = trial.adsl["USUBJID"].to_numpy()
    picks = rng.choice(subjects, size=30)
    addv = pd.DataFrame({
        "USUBJID": picks,
        "DVCAT": rng.choice(["MAJOR", "MINOR"], size=30).astype(object),
        "DVDECOD": rng.choice(["Visit out of window", "Missed dose", "Eligibility"],
                              size=30).astype(object),
    })
    outputs = [o.model_dump(mode="json", exclude_none=True) for o in trial.study.model.outputs]
    outputs.append({"id": "14.1.5", "name": "deviations", "type": "protocol_deviations",
                    "population": "RAND", "title": "Protocol deviations"})
    study = study_with(trial.study, outputs=outputs)
    data = trial_from_frames(study, {**trial.frames, "addv": addv}, codelists=trial.codelists)
    return data, addv


def test_the_family_registered_itself() -> None:
    assert output_types()["protocol_deviations"].family == "deviations"


def test_counts_equal_pandas(trial_with_deviations) -> None:
    data, addv = trial_with_deviations
    ard = build_ard(data)
    rand = data.adsl[data.adsl["RANDFL"] == "Y"][["USUBJID", "TRT01P"]]
    merged = addv.merge(rand, on="USUBJID")
    for arm, rows in merged.groupby("TRT01P", observed=True):
        assert ard.get("deviations", "ANY", "subjects", arm) == rows["USUBJID"].nunique()
        assert ard.get("deviations", "ANY", "events", arm) == len(rows)
        for (cat, term), sub in rows.groupby(["DVCAT", "DVDECOD"]):
            assert ard.get("deviations", cat, "subjects", arm, term) == sub["USUBJID"].nunique()
    assert ard.get("deviations", "", "N") == len(rand)
    html = to_html(build_output(data.study, "deviations", ard, data))
    assert "Table 14.1.5 Protocol deviations" in html and "Randomised set (N=24)" in html


def test_a_variable_the_dataset_lacks_is_named(trial_with_deviations) -> None:
    data, addv = trial_with_deviations
    outputs = [o.model_dump(mode="json", exclude_none=True) for o in data.study.model.outputs]
    outputs[-1]["term"] = "DVTERM"
    study = study_with(data.study, outputs=outputs)
    broken = trial_from_frames(study, data.frames, codelists=data.codelists)
    with pytest.raises(StudyDefinitionError, match="variable 'DVTERM' is not in dataset 'addv'"):
        build_ard(broken)
