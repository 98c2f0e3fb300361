"""The synthetic SAS trial generator: reproducible, any number of arms, consistent records."""

from __future__ import annotations

import numpy as np
import pytest

from trialreport.demodata.sas_trial import build_sas_trial, sas_arms, write_sas_trial
from trialreport.io.xpt import read_xpt


def test_same_arguments_write_the_same_bytes(tmp_path) -> None:
    first = write_sas_trial(tmp_path / "a", n_subjects=20, seed=9)
    second = write_sas_trial(tmp_path / "b", n_subjects=20, seed=9)
    other = write_sas_trial(tmp_path / "c", n_subjects=20, seed=10)
    assert [p.name for p in first] == ["adsl.xpt", "adae.xpt", "adeff.xpt", "adtte.xpt",
                                       "define.xml"]
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]
    assert first[0].read_bytes() != other[0].read_bytes()
    assert first[0].read_bytes().startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD")  # v5


@pytest.mark.parametrize("arms", [1, 2, 5])
def test_any_number_of_arms(tmp_path, arms) -> None:
    write_sas_trial(tmp_path, n_subjects=25, arms=arms, seed=1, with_efficacy=False)
    adsl, meta = read_xpt(tmp_path / "adsl.xpt")
    expected = sas_arms(arms)
    assert sorted(set(adsl["TRT01P"])) == sorted(a for a, _ in expected)
    pairs = set(zip(adsl["TRT01P"], adsl["TRT01PN"], strict=True))
    assert pairs == {(a, str(d)) for a, d in expected}
    assert len(adsl) == 25 and meta.version == 5
    assert ("Placebo", 0) in expected if arms > 1 else expected == [("Veltrasib 25 mg", 25)]


def test_records_are_consistent() -> None:
    trial = build_sas_trial(n_subjects=60, seed=4)
    adsl, adae, adtte = (trial[n].frame for n in ("ADSL", "ADAE", "ADTTE"))
    assert adsl["USUBJID"].is_unique and len(adsl) == 60
    treated = adsl["SAFFL"] == "Y"
    assert (adsl["TRTSDT"].notna() == treated).all() and (adsl["TRT01A"].notna() == treated).all()
    assert ((adsl["EOSSTT"] == "DISCONTINUED") == adsl["DCSREAS"].notna()).all()
    assert set(adae["USUBJID"]) <= set(adsl.loc[treated, "USUBJID"])
    first_dose = adae["USUBJID"].map(adsl.set_index("USUBJID")["TRTSDT"])
    days = (adae["ASTDT"] - first_dose).dt.days.to_numpy()
    assert (adae["ASTDY"].to_numpy() == np.where(days >= 0, days + 1, days)).all()
    assert ((adae["TRTEMFL"] == "Y") == (days >= 0)).all()
    assert not adae.duplicated(["USUBJID", "AESEQ"]).any()
    assert ((adtte["CNSR"] == 0) == (adtte["EVNTDESC"] != "END OF FOLLOW-UP")).all()
    assert ((adtte["ADT"] - adtte["STARTDT"]).dt.days + 1 == adtte["AVAL"]).all()
    adeff = trial["ADEFF"].frame
    score = adeff[adeff["PARAMCD"] == "SYMSCORE"].set_index(["USUBJID", "AVISITN"])
    resp = adeff[adeff["PARAMCD"] == "RESP"].set_index(["USUBJID", "AVISITN"])
    assert len(resp) and set(resp.index) <= set(score.index)
    halved = score.loc[resp.index, "AVAL"] * 2 <= score.loc[resp.index, "BASE"]
    assert ((resp["AVALC"] == "Y") == halved).all() and set(resp["AVAL"]) <= {0.0, 1.0}
    missing = trial["ADSL"].special_missing
    assert set(missing["BMIBL"].values()) == {"A", "B"}
    assert all(np.isnan(adsl.at[row - 1, col]) for col, rows in missing.items() for row in rows)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"arms": 0}, "arms"), ({"arms": 10}, "arms"), ({"n_subjects": 0}, "n_subjects")])
def test_bad_arguments(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        build_sas_trial(**kwargs)
