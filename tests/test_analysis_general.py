"""The analyses on another trial: a synthetic three-arm placebo-controlled study of thousands of
subjects with its own study definition (other arm names, populations, datasets, endpoints, time
unit), written to YAML and loaded like ``data_spec/study.yml``. No analysis code knows this
trial; every expected value below is recomputed from the records with plain pandas/numpy/scipy.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep

from trialreport.ard import ARD, build_ard
from trialreport.data import trial_from_frames
from trialreport.demodata.synthetic import make_synthetic_trial
from trialreport.families.binary import responder_flags
from trialreport.families.listings import ae_listing
from trialreport.families.profiles import swimmer_data
from trialreport.study import StudyDefinitionError, load_study

PLACEBO, LOW, HIGH = "Placebo", "Zelvimab 50 mg", "Zelvimab 100 mg"
ARMS = [PLACEBO, LOW, HIGH]
TOTAL = "Overall"
HIGH_VS_PLACEBO = f"{HIGH} vs {PLACEBO}"
LOW_VS_PLACEBO = f"{LOW} vs {PLACEBO}"


def _trial(tmp_path, raw: dict, frames: dict):
    path = tmp_path / "study.yml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return trial_from_frames(load_study(path), frames)


@pytest.fixture(scope="module")
def synthetic():
    raw, frames = make_synthetic_trial(3000, 60000, arms=3, seed=11)
    raw["arms"]["total"] = TOTAL
    return raw, frames


@pytest.fixture(scope="module")
def built(synthetic, tmp_path_factory):
    raw, frames = synthetic
    data = _trial(tmp_path_factory.mktemp("study"), raw, frames)
    return data, build_ard(data)


# -- helpers computing expected values straight from the records --------------------------


def _pop(adsl: pd.DataFrame, flag: str, arm_var: str) -> pd.DataFrame:
    return adsl[adsl[flag] == "Y"].assign(ARMX=lambda f: f[arm_var])


def _km(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Product-limit estimate at the distinct event times."""
    ts = np.unique(time[event])
    at_risk = np.array([(time >= t).sum() for t in ts])
    deaths = np.array([((time == t) & event).sum() for t in ts])
    return ts, np.cumprod(1 - deaths / at_risk)


def _logrank_p(t1, e1, t2, e2) -> float:
    time, event = np.concatenate([t1, t2]), np.concatenate([e1, e2])
    group1 = np.concatenate([np.ones(len(t1), bool), np.zeros(len(t2), bool)])
    o_minus_e = var = 0.0
    for t in np.unique(time[event]):
        risk = time >= t
        n, n1 = risk.sum(), (risk & group1).sum()
        d = ((time == t) & event).sum()
        d1 = ((time == t) & event & group1).sum()
        o_minus_e += d1 - d * n1 / n
        if n > 1:
            var += d * (n1 / n) * (1 - n1 / n) * (n - d) / (n - 1)
    return float(stats.chi2.sf(o_minus_e**2 / var, 1))


# -- populations and baseline ---------------------------------------------------------------


def test_big_n_per_population(built, synthetic) -> None:
    data, ard = built
    adsl = synthetic[1]["adsl"]
    for code, flag, arm_var in (("ITT", "ITTFL", "TRTP"), ("MITT", "MITTFL", "TRTP"),
                                ("SAFETY", "SAFFL", "TRTA"), ("PP", "PPROTFL", "TRTP")):
        pop = _pop(adsl, flag, arm_var)
        for arm in ARMS:
            assert ard.get("population", "N", "n", arm, population=code) == (
                pop["ARMX"] == arm).sum()
        assert ard.get("population", "N", "n", TOTAL, population=code) == len(pop)
    assert ard.get("population", "N", "n", TOTAL, population="ITT") == 3000


def test_baseline_continuous_and_test(built, synthetic) -> None:
    _, ard = built
    itt = _pop(synthetic[1]["adsl"], "ITTFL", "TRTP")
    for arm in ARMS:
        age = itt.loc[itt["ARMX"] == arm, "AGE"].astype(float)
        assert ard.get("baseline", "AGE", "median", arm) == np.median(age)
        assert ard.get("baseline", "AGE", "n", arm) == len(age)
        assert ard.get("baseline", "AGE", "min", arm) == age.min()
        weight = itt.loc[itt["ARMX"] == arm, "WEIGHT"]
        assert ard.get("baseline", "WEIGHT", "nmiss", arm) == weight.isna().sum() > 0
        assert ard.get("baseline", "WEIGHT", "mean", arm) == pytest.approx(weight.mean(),
                                                                          rel=1e-12)
    groups = [itt.loc[itt["ARMX"] == a, "AGE"].astype(float) for a in ARMS]
    expected = stats.kruskal(*groups)
    assert ard.get("baseline", "AGE", "pvalue", "comparison") == pytest.approx(expected.pvalue)
    assert "Kruskal-Wallis" in ard.method("baseline", "AGE", "pvalue", "comparison")
    assert ard.get("baseline", "AGE", "precision") == 0  # whole years


def test_baseline_categorical_keeps_unlisted_levels(built, synthetic) -> None:
    _, ard = built
    itt = _pop(synthetic[1]["adsl"], "ITTFL", "TRTP")
    race = ard.select("baseline", "RACE", "n", TOTAL)
    # study-definition order, then codes found in the data but not defined
    assert list(race["category"]) == ["WHITE", "BLACK", "ASIAN", "OTHER"]
    table = pd.crosstab(itt["ARMX"], itt["RACE"]).reindex(index=ARMS)
    for arm in ARMS:
        for level in ("WHITE", "OTHER"):
            assert ard.get("baseline", "RACE", "n", arm, level) == table.loc[arm, level]
        n_arm = table.loc[arm].sum()
        assert ard.get("baseline", "RACE", "pct", arm, "WHITE") == pytest.approx(
            100 * table.loc[arm, "WHITE"] / n_arm)
    chi = stats.chi2_contingency(table[["WHITE", "BLACK", "ASIAN", "OTHER"]].to_numpy(),
                                 correction=False)
    assert ard.get("baseline", "RACE", "pvalue", "comparison") == pytest.approx(chi.pvalue)
    assert ard.method("baseline", "RACE", "pvalue", "comparison") == "Pearson's chi-square test"
    # "NA" (North America) is a code, not a missing value
    assert ard.get("baseline", "REGION", "n", TOTAL, "NA") == (itt["REGION"] == "NA").sum()


# -- efficacy ---------------------------------------------------------------------------------


def _expected_responders(frames) -> pd.DataFrame:
    adsl, rs = frames["adsl"], frames["adrs"]
    mitt = _pop(adsl, "MITTFL", "TRTP")[["USUBJID", "ARMX"]]

    def who(param, visit=None, values=None, through=None):
        r = rs[rs["PARAMCD"] == param]
        if visit is not None:
            r = r[r["AVISITN"] == visit]
        if through is not None:
            r = r[r["AVISITN"] <= through]
        if values is not None:
            r = r[r["AVALC"].isin(values)]
        return set(r["USUBJID"])

    resp24 = who("RESPONSE", 24, ["Y"])
    sustain = (who("RESPONSE", 12, ["Y"]) - who("FLARE", values=["Y"], through=24)) & who(
        "RESPONSE", 24)
    return mitt.assign(RESP24=mitt["USUBJID"].isin(resp24),
                       SUSTAIN24=mitt["USUBJID"].isin(sustain))


def test_binary_endpoints_match_the_records(built, synthetic) -> None:
    _, ard = built
    exp = _expected_responders(synthetic[1])
    for ep in ("RESP24", "SUSTAIN24"):
        counts = exp.groupby("ARMX")[ep].agg(["sum", "size"])
        for arm in ARMS:
            n, N = int(counts.loc[arm, "sum"]), int(counts.loc[arm, "size"])
            assert ard.get("efficacy", ep, "n", arm) == n
            assert ard.get("efficacy", ep, "N", arm) == N
            assert ard.get("efficacy", ep, "pct", arm) == pytest.approx(100 * n / N)
            # Clopper-Pearson limits are beta quantiles
            assert ard.get("efficacy", ep, "lower", arm) == pytest.approx(
                stats.beta.ppf(0.025, n, N - n + 1))
            assert ard.get("efficacy", ep, "upper", arm) == pytest.approx(
                stats.beta.ppf(0.975, n + 1, N - n))
        n2, N2 = counts.loc[PLACEBO, "sum"], counts.loc[PLACEBO, "size"]
        for arm, group in ((HIGH, HIGH_VS_PLACEBO), (LOW, LOW_VS_PLACEBO)):  # every pair
            n1, N1 = counts.loc[arm, "sum"], counts.loc[arm, "size"]
            assert ard.get("efficacy", ep, "estimate", group) == pytest.approx(
                n1 / N1 - n2 / N2)
            lo, hi = (ard.get("efficacy", ep, s, group) for s in ("lower", "upper"))
            assert (lo, hi) == pytest.approx(confint_proportions_2indep(
                n1, N1, n2, N2, method="newcomb", compare="diff"))
            p = stats.fisher_exact([[n1, N1 - n1], [n2, N2 - n2]]).pvalue
            assert ard.get("efficacy", ep, "pvalue", group) == pytest.approx(p)
    assert ard.get("efficacy", "RESP24", "n", TOTAL) == exp["RESP24"].sum()


def test_responder_flags_cover_the_population(built, synthetic) -> None:
    data, _ = built
    flags = responder_flags(data, "SUSTAIN24")
    exp = _expected_responders(synthetic[1]).set_index("USUBJID")["SUSTAIN24"]
    assert len(flags) == len(exp)
    assert (flags.set_index("subject")["responder"] == exp.loc[flags["subject"]].to_numpy()).all()


# -- time to event ---------------------------------------------------------------------------


def test_time_to_flare_in_weeks(built, synthetic) -> None:
    _, ard = built
    frames = synthetic[1]
    mitt = _pop(frames["adsl"], "MITTFL", "TRTP")[["USUBJID", "ARMX"]]
    tte = frames["adtte"].merge(mitt, on="USUBJID")
    by_arm = {}
    for arm in ARMS:
        sub = tte[tte["ARMX"] == arm]
        t = sub["AVAL"].to_numpy(float) / 7.0
        e = sub["CNSR"].to_numpy() == 0
        by_arm[arm] = (t, e)
        assert ard.get("tte", "TTFLARE", "n", arm) == len(sub)
        assert ard.get("tte", "", "N", arm) == len(sub)
        assert ard.get("tte", "TTFLARE", "events", arm) == e.sum()
        ts, surv = _km(t, e)
        s12 = surv[ts <= 12][-1] if (ts <= 12).any() else 1.0
        assert ard.get("tte", "TTFLARE", "surv", arm, "12") == pytest.approx(s12)
        lo, hi = (ard.get("tte", "TTFLARE", s, arm, "12") for s in ("surv_lower", "surv_upper"))
        assert lo < s12 < hi
        median = ard.get("tte", "TTFLARE", "median", arm)
        reached = surv <= 0.5 + 1e-9  # exactly 1/2 counts as reached
        if reached.any():
            assert median == pytest.approx(ts[np.argmax(reached)])
        else:
            assert np.isnan(median)
    p = _logrank_p(*by_arm[HIGH], *by_arm[PLACEBO])
    assert ard.get("tte", "TTFLARE", "pvalue", HIGH_VS_PLACEBO) == pytest.approx(p, rel=1e-9)
    p = _logrank_p(*by_arm[LOW], *by_arm[PLACEBO])
    assert ard.get("tte", "TTFLARE", "pvalue", LOW_VS_PLACEBO) == pytest.approx(p, rel=1e-9)
    assert set(ard.select("tte", "TTFLARE", "surv", TOTAL)["category"]) == {"12", "24", "52"}


# -- safety -------------------------------------------------------------------------------------


def _teae(frames) -> pd.DataFrame:
    saf = _pop(frames["adsl"], "SAFFL", "TRTA")[["USUBJID", "ARMX"]]
    return frames["adae"][frames["adae"]["TRTEMFL"] == "Y"].merge(saf, on="USUBJID")


def test_ae_overview_and_soc_pt(built, synthetic) -> None:
    _, ard = built
    frames = synthetic[1]
    ae = _teae(frames)
    assert len(ae) < len(frames["adae"])  # non-emergent events are left out
    saf_n = _pop(frames["adsl"], "SAFFL", "TRTA")["ARMX"].value_counts()
    sae = ae[ae["AESER"] == "Y"]
    for arm in ARMS:
        s = sae[sae["ARMX"] == arm]
        assert ard.get("ae_overview", "ANY_SAE", "subjects", arm) == s["USUBJID"].nunique()
        assert ard.get("ae_overview", "ANY_SAE", "events", arm) == len(s)
        assert ard.get("ae_overview", "ANY_SAE", "pct", arm) == pytest.approx(
            100 * s["USUBJID"].nunique() / saf_n[arm])
        fatal = ae[(ae["ARMX"] == arm) & (ae["AEOUT"] == "FATAL")]
        assert ard.get("ae_overview", "AE_FATAL", "events", arm) == len(fatal)
        assert ard.get("ae_overview", "", "N", arm) == saf_n[arm]
    pt = ae.groupby(["AEBODSYS", "AEDECOD"])["USUBJID"].nunique()
    for (soc, term), n in pt.items():
        assert ard.get("teae_soc_pt", soc, "subjects", TOTAL, term) == n
    assert ard.get("teae_soc_pt", "ANY", "events", TOTAL) == len(ae)
    socs = ard.select("sae_soc_pt", statistic="subjects", group=TOTAL, category="")
    totals = socs.loc[socs["variable"] != "ANY", "value"].to_numpy()
    assert len(totals) > 1 and (np.diff(totals) <= 0).all()  # decreasing frequency


def test_maximum_severity_counts_each_patient_at_the_worst_grade(built, synthetic) -> None:
    _, ard = built
    ae = _teae(synthetic[1]).assign(
        r=lambda f: f["AESEV"].map({"MILD": 0, "MODERATE": 1, "SEVERE": 2}))
    for arm in ARMS:
        worst = ae[ae["ARMX"] == arm].groupby("USUBJID")["r"].max()
        for rank, level in enumerate(("MILD", "MODERATE", "SEVERE")):
            assert ard.get("teae_severity", "ANY", f"subjects@{level}", arm) == (
                worst == rank).sum()
        # every patient with an event is counted exactly once
        assert sum(ard.get("teae_severity", "ANY", f"subjects@{lv}", arm)
                   for lv in ("MILD", "MODERATE", "SEVERE")) == len(worst)
    soc = ae["AEBODSYS"].iloc[0]
    worst_soc = ae[ae["AEBODSYS"] == soc].groupby("USUBJID")["r"].max()
    assert ard.get("teae_severity", soc, "subjects@SEVERE", TOTAL) == (worst_soc == 2).sum()


def test_ae_statistics_against_the_reference_arm(built, synthetic) -> None:
    """Fisher's exact p-value (scipy) and the Newcombe risk difference (statsmodels) for any
    TEAE and for every SOC/PT row, for each arm against placebo."""
    _, ard = built
    ae = _teae(synthetic[1])
    saf_n = _pop(synthetic[1]["adsl"], "SAFFL", "TRTA")["ARMX"].value_counts()
    rows = [("ANY", "", ae)]
    for (soc, term), sub in list(ae.groupby(["AEBODSYS", "AEDECOD"]))[:8]:
        rows.append((soc, term, sub))
    for soc, term, sub in rows:
        subjects = sub.groupby("ARMX")["USUBJID"].nunique().reindex(ARMS, fill_value=0)
        for arm, group in ((HIGH, HIGH_VS_PLACEBO), (LOW, LOW_VS_PLACEBO)):
            a, n1 = int(subjects[arm]), int(saf_n[arm])
            b, n2 = int(subjects[PLACEBO]), int(saf_n[PLACEBO])
            p = stats.fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue
            assert ard.get("teae_soc_pt", soc, "pvalue", group, term) == pytest.approx(p)
            assert ard.get("teae_soc_pt", soc, "estimate", group, term) == pytest.approx(
                a / n1 - b / n2)
            lo, hi = confint_proportions_2indep(a, n1, b, n2, method="newcomb", compare="diff")
            assert ard.get("teae_soc_pt", soc, "lower", group, term) == pytest.approx(lo)
            assert ard.get("teae_soc_pt", soc, "upper", group, term) == pytest.approx(hi)


def test_sae_listing_is_sorted_and_complete(built, synthetic) -> None:
    data, _ = built
    listing = ae_listing(data, data.study.output("sae_listing"))
    sae = _teae(synthetic[1]).query("AESER == 'Y'")
    assert len(listing) == len(sae)
    assert list(listing.columns) == ["subject", "arm", "soc", "pt", "start_day",
                                     "severity_text", "relatedness", "outcome"]
    order = listing["arm"].cat.codes
    assert order.is_monotonic_increasing
    key = list(zip(order, listing["subject"], listing["start_day"], strict=True))
    assert key == sorted(key)


# -- edge cases ---------------------------------------------------------------------------------


def test_arm_without_events(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    low_ids = set(frames["adsl"].loc[frames["adsl"]["TRTP"] == LOW, "USUBJID"])
    ae = frames["adae"]
    ae.loc[ae["USUBJID"].isin(low_ids), "AESER"] = "N"
    rs = frames["adrs"]
    rs.loc[rs["USUBJID"].isin(low_ids) & (rs["PARAMCD"] == "RESPONSE"), "AVALC"] = "N"
    tte = frames["adtte"]
    tte.loc[tte["USUBJID"].isin(low_ids), "CNSR"] = 1
    ard = build_ard(_trial(tmp_path, raw, frames))
    assert ard.get("ae_overview", "ANY_SAE", "subjects", LOW) == 0
    assert ard.get("ae_overview", "ANY_SAE", "pct", LOW) == 0
    sae_low = ard.select("sae_soc_pt", group=LOW)
    sae_low = sae_low[sae_low["variable"] != ""]  # the arm's big N is not a count of events
    assert len(sae_low) > 0 and (sae_low["value"] == 0).all()
    assert ard.get("efficacy", "RESP24", "n", LOW) == 0
    assert ard.get("efficacy", "RESP24", "lower", LOW) == 0
    assert 0 < ard.get("efficacy", "RESP24", "upper", LOW) < 0.01
    assert ard.get("tte", "TTFLARE", "events", LOW) == 0
    assert np.isnan(ard.get("tte", "TTFLARE", "median", LOW))
    assert ard.get("tte", "TTFLARE", "surv", LOW, "12") == 1.0
    assert ard.problems() == []


def test_empty_arm_is_an_error(synthetic, tmp_path) -> None:
    """An arm with no subjects is an error naming it, never a column of zeros."""
    raw, frames = copy.deepcopy(synthetic)
    raw["arms"]["levels"].append({"code": "Zelvimab 200 mg", "label": "200 mg"})
    with pytest.raises(StudyDefinitionError, match="'Zelvimab 200 mg' is not a value of TRTP"):
        _trial(tmp_path, raw, frames)


def test_arm_code_one_character_off_is_an_error(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    raw["arms"]["levels"][1]["code"] = "Zelvimab 50mg"
    with pytest.raises(StudyDefinitionError) as err:
        _trial(tmp_path, raw, frames)
    text = str(err.value)
    assert "did you mean 'Zelvimab 50 mg'?" in text
    assert "not arms of the study: 'Zelvimab 50 mg'" in text  # its subjects are not dropped
    assert "study.yml:" in text  # names the file and line


def test_missing_dataset_is_an_error(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    del frames["adrs"]
    with pytest.raises(StudyDefinitionError, match="dataset 'adrs' is not in the data folder"):
        _trial(tmp_path, raw, frames)


def test_study_without_optional_sections(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    for section in ("disposition", "endpoints", "time_to_event", "safety", "baseline"):
        raw.pop(section)
    raw["outputs"] = [o for o in raw["outputs"] if o["type"] == "population_sets"]
    for role in ("adrs", "adtte", "screening", "adae"):
        del frames[role]
    ard = build_ard(_trial(tmp_path, raw, frames))
    assert set(ard.frame["analysis"]) == {"population", "analysis_sets"}
    assert isinstance(ard, ARD)


def test_swimmer_lanes_from_the_definition(synthetic, tmp_path) -> None:
    raw, frames = copy.deepcopy(synthetic)
    with pytest.raises(ValueError, match="needs a 'swimmer:' block"):
        swimmer_data(_trial(tmp_path, raw, frames))
    raw["swimmer"] = {"response": {"paramcd": "RESPONSE", "levels": {"Y": "Response",
                                                                      "N": "No response"}},
                      "relapse": {"paramcd": "FLARE", "value": "Y"}, "months": 6}
    sd = swimmer_data(_trial(tmp_path, raw, frames))
    saf = _pop(frames["adsl"], "SAFFL", "TRTA")
    assert len(sd.lanes) == len(saf)
    assert list(sd.lanes["lane"]) == list(range(1, len(saf) + 1))
    rs = frames["adrs"][frames["adrs"]["USUBJID"].isin(saf["USUBJID"])]
    ev = sd.events
    assert (ev["event"] == "response").sum() == (rs["PARAMCD"] == "RESPONSE").sum()
    flares = rs[(rs["PARAMCD"] == "FLARE") & (rs["AVALC"] == "Y")]
    assert (ev["event"] == "relapse").sum() == len(flares)
    assert (ev["event"] == "sae").sum() == len(_teae(frames).query("AESER == 'Y'"))
    assert (ev["event"] == "discontinued").sum() == (saf["EOSSTT"] == "DISCONTINUED").sum()
    end = (saf["EOSDT"] - saf["TRTSDT"]).dt.days + 1
    assert sorted(sd.lanes["end_day"].astype(int)) == sorted(end)
    assert sd.horizon_months == 6
